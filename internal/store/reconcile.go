package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The reconciler's SQL. Every write here is conditional on the row still
// being the claim the reconciler read — status sending with the same
// sending_at — so a status callback, a requeue or a new claim that came in
// between is never overwritten. Ages are measured with the database's now(),
// the clock sending_at was written with.

// notifyCounted is notifyChanged that counts the changed messages of u
// instead of their conversations.
const notifyCounted = `, n AS (SELECT pg_notify('parley_conversation', conversation_id::text)
		FROM (SELECT DISTINCT conversation_id FROM u WHERE conversation_id IS NOT NULL) d)
	SELECT (SELECT count(*) FROM u) + 0 * (SELECT count(*) FROM n)`

// Stuck is a message left in sending: the carrier call's outcome is unknown.
type Stuck struct {
	ID             int64
	ConversationID int64
	From, To, Body string
	Purpose        string
	Origin         string
	// SendingAt identifies the claim: every write of the reconciler checks it.
	SendingAt time.Time
	// Expired: sending for longer than StuckQuery.Expired.
	Expired bool
}

// StuckQuery says which sending messages are due a lookup.
type StuckQuery struct {
	// After: sending for longer than this with no outcome recorded (a worker
	// that died mid-call), measured from sending_at.
	After time.Duration
	// AmbiguousAfter: the sender recorded an ambiguous outcome (MarkAmbiguous)
	// longer ago than this.
	AmbiguousAfter time.Duration
	// Expired sets Stuck.Expired for messages sending for longer than this.
	Expired time.Duration
	AfterID int64 // keyset: ids above this
	Limit   int
}

// StuckSending lists outbound messages in sending that are due a lookup, by
// id after q.AfterID.
func (s *Store) StuckSending(ctx context.Context, q StuckQuery) ([]Stuck, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT id, coalesce(conversation_id, 0), from_number, to_number, body, purpose, origin, sending_at,
			sending_at < now() - $5::bigint * interval '1 microsecond'
		FROM messages
		WHERE direction = 'outbound' AND status = 'sending' AND id > $1
		  AND (sending_at < now() - $2::bigint * interval '1 microsecond'
		       OR (status_reason = 'ambiguous_send' AND updated_at < now() - $3::bigint * interval '1 microsecond'))
		ORDER BY id LIMIT $4`,
		q.AfterID, q.After.Microseconds(), q.AmbiguousAfter.Microseconds(), q.Limit, q.Expired.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("store: stuck sending: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Stuck])
	if err != nil {
		return nil, fmt.Errorf("store: stuck sending: %w", err)
	}
	return out, nil
}

// MarkAmbiguous records that the carrier call of claim number attempts ended
// without telling whether the text went (a 5xx, no answer). The message stays
// sending; the reconciler looks it up AmbiguousAfter later, counted from now:
// the call is over, so only the carrier's own delay remains to wait out.
func (s *Store) MarkAmbiguous(ctx context.Context, id int64, attempts int, code int, msg string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE messages SET status_reason = 'ambiguous_send', error_code = nullif($3, 0),
		error_message = $4, updated_at = now()
		WHERE id = $1 AND status = 'sending' AND attempts = $2`, id, attempts, code, msg)
	if err != nil {
		return fmt.Errorf("store: mark message %d ambiguous: %w", id, err)
	}
	return nil
}

// ResolveSent records sid, found at the carrier, on a message still in the
// claim sendingAt, and returns whether it did, with the status callbacks kept
// for that SID (removed from pending_statuses) for the caller to apply.
func (s *Store) ResolveSent(ctx context.Context, id int64, sendingAt time.Time, sid string) (bool, []StatusUpdate, error) {
	var changed bool
	var pend []StatusUpdate
	// As MarkSent: the SID lock first, then — with a later snapshot — the
	// update and the pickup of callbacks kept for the SID.
	b := &pgx.Batch{}
	b.Queue(lockSID, sid)
	b.Queue(`UPDATE messages SET twilio_sid = $3, status = 'sent', status_reason = '', sent_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'sending' AND sending_at = $2 RETURNING true`, id, sendingAt, sid).
		QueryRow(func(r pgx.Row) error {
			err := r.Scan(&changed)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		})
	b.Queue(`DELETE FROM pending_statuses p WHERE p.twilio_sid = $2
			AND EXISTS (SELECT 1 FROM messages m WHERE m.id = $1 AND m.twilio_sid = $2)
		RETURNING p.twilio_sid, $1::bigint, p.status, coalesce(p.error_code, 0), p.error_message`, id, sid).
		Query(func(rows pgx.Rows) error {
			var err error
			pend, err = pgx.CollectRows(rows, scanPending)
			return err
		})
	b.Queue(`WITH u AS (SELECT conversation_id FROM messages WHERE id = $1 AND twilio_sid = $2)`+notifyChanged, id, sid)
	if err := s.Pool.SendBatch(ctx, b).Close(); err != nil {
		return false, nil, fmt.Errorf("store: resolve message %d as sent: %w", id, err)
	}
	return changed, pend, nil
}

// RequeueIf puts a message the carrier positively does not have back to
// queued, if it is still in the claim sendingAt, and clears enqueued_at so
// that the relay gives it a task should the caller's enqueue fail.
func (s *Store) RequeueIf(ctx context.Context, id int64, sendingAt time.Time, reason string) (bool, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `WITH u AS (UPDATE messages SET status = 'queued', status_reason = $3, enqueued_at = NULL,
			updated_at = now()
		WHERE id = $1 AND status = 'sending' AND sending_at = $2 RETURNING conversation_id)`+notifyCounted,
		id, sendingAt, reason).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: requeue message %d: %w", id, err)
	}
	return n == 1, nil
}

// GiveUpIf marks unknown a message the carrier cannot be asked about
// conclusively, if it is still in the claim sendingAt.
func (s *Store) GiveUpIf(ctx context.Context, id int64, sendingAt time.Time, reason string) (bool, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `WITH u AS (UPDATE messages SET status = 'unknown', status_reason = $3, updated_at = now()
		WHERE id = $1 AND status = 'sending' AND sending_at = $2 RETURNING conversation_id)`+notifyCounted,
		id, sendingAt, reason).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: mark message %d unknown: %w", id, err)
	}
	return n == 1, nil
}
