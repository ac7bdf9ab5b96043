package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// IdempotencyTTL is how long the answer to an idempotent request is kept: a
// request with the same key after that is new.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a key may stay in progress before the request
// holding it is taken for dead (its process crashed between claiming the key
// and recording the answer) and a retry of the same request may take the key
// over. It is far beyond any request's life (the server's write timeout is
// 60 s), so a request still running is never overtaken.
const IdempotencyLease = 5 * time.Minute

// idempotencyPrune is how many expired keys one claim deletes on the way: each
// new key removes up to this many old ones, so the table stays about one
// day's keys without a periodic job.
const idempotencyPrune = 100

// IdempotencyState is what a claim found.
type IdempotencyState int

// What ClaimIdempotencyKey can find.
const (
	// IdempotencyStarted: the key is the caller's. It must run the request and
	// then CompleteIdempotencyKey (an answer to keep) or ReleaseIdempotencyKey
	// (no answer: the client may retry).
	IdempotencyStarted IdempotencyState = iota
	// IdempotencyReplay: the same request was answered; Status, ContentType
	// and Body are that answer.
	IdempotencyReplay
	// IdempotencyConflict: the key was used for a different request.
	IdempotencyConflict
	// IdempotencyInProgress: the same request holds the key and has not
	// answered yet.
	IdempotencyInProgress
)

// IdempotencyClaim is the outcome of ClaimIdempotencyKey.
type IdempotencyClaim struct {
	State IdempotencyState
	// Token identifies the caller's claim (when Started): completing or
	// releasing a key that was taken over since does nothing. It is the row's
	// created_at, which a takeover always moves.
	Token       time.Time
	Status      int
	ContentType string
	Body        []byte
}

// ClaimIdempotencyKey takes key for the request whose hash is requestHash, on
// behalf of API key apiKeyID, or says why it cannot. The unique key of the
// table decides between concurrent claims: exactly one of them starts. An
// expired key, or one abandoned in progress by the same request for longer
// than IdempotencyLease, is taken over. Up to a hundred expired keys of any
// API key are pruned on the way.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, apiKeyID int64, key string, requestHash []byte) (IdempotencyClaim, error) {
	ttl, lease := IdempotencyTTL.Seconds(), IdempotencyLease.Seconds()
	// A released key is deleted between our insert and our read: try again.
	for range 3 {
		var token time.Time
		// The prune skips this request's own key: one statement may not both
		// delete and upsert a row.
		err := s.Pool.QueryRow(ctx, `
			WITH pruned AS (
				DELETE FROM idempotency_keys WHERE (api_key_id, key) IN (
					SELECT api_key_id, key FROM idempotency_keys
					WHERE created_at < now() - make_interval(secs => $4) AND NOT (api_key_id = $1 AND key = $2)
					ORDER BY created_at LIMIT `+fmt.Sprint(idempotencyPrune)+` FOR UPDATE SKIP LOCKED))
			INSERT INTO idempotency_keys AS k (api_key_id, key, request_hash) VALUES ($1, $2, $3)
			ON CONFLICT (api_key_id, key) DO UPDATE
				SET request_hash = excluded.request_hash, status = NULL, content_type = '', body = '', created_at = now()
				WHERE k.created_at < now() - make_interval(secs => $4)
				   OR (k.status IS NULL AND k.request_hash = excluded.request_hash AND k.created_at < now() - make_interval(secs => $5))
			RETURNING created_at`, apiKeyID, key, requestHash, ttl, lease).Scan(&token)
		if err == nil {
			return IdempotencyClaim{State: IdempotencyStarted, Token: token}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return IdempotencyClaim{}, fmt.Errorf("store: claim idempotency key: %w", err)
		}
		// A live row holds the key. ON CONFLICT waited for its insert to
		// commit, so this read (a new snapshot) sees it unless it was
		// released in between.
		var (
			c      IdempotencyClaim
			hash   []byte
			status *int
		)
		err = s.Pool.QueryRow(ctx, `SELECT request_hash, status, content_type, body FROM idempotency_keys
			WHERE api_key_id = $1 AND key = $2`, apiKeyID, key).Scan(&hash, &status, &c.ContentType, &c.Body)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return IdempotencyClaim{}, fmt.Errorf("store: read idempotency key: %w", err)
		}
		switch {
		case !bytes.Equal(hash, requestHash):
			return IdempotencyClaim{State: IdempotencyConflict}, nil
		case status == nil:
			return IdempotencyClaim{State: IdempotencyInProgress}, nil
		}
		c.State, c.Status = IdempotencyReplay, *status
		return c, nil
	}
	return IdempotencyClaim{}, fmt.Errorf("store: claim idempotency key: released three times while claiming")
}

// CompleteIdempotencyKey keeps the answer of the request that claimed key
// with token, for replays. ErrNotFound if the claim is no longer the
// caller's (taken over after IdempotencyLease).
func (s *Store) CompleteIdempotencyKey(ctx context.Context, apiKeyID int64, key string, token time.Time, status int, contentType string, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	tag, err := s.Pool.Exec(ctx, `UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6
		WHERE api_key_id = $1 AND key = $2 AND created_at = $3 AND status IS NULL`, apiKeyID, key, token, status, contentType, body)
	if err != nil {
		return fmt.Errorf("store: complete idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: complete idempotency key: %w", ErrNotFound)
	}
	return nil
}

// ReleaseIdempotencyKey gives up the claim on key, so that the client may
// retry: the request failed without an answer worth keeping. Releasing a
// claim that is no longer the caller's does nothing.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, apiKeyID int64, key string, token time.Time) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM idempotency_keys
		WHERE api_key_id = $1 AND key = $2 AND created_at = $3 AND status IS NULL`, apiKeyID, key, token); err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}
