package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConversationChannel is the NOTIFY channel every change to a conversation
// (a text in or out, a status, an assignment, a note) is announced on; the
// payload is the conversation id, or breachPrefix and the id when the
// conversation's response target has just been missed.
const ConversationChannel = "parley_conversation"

// breachPrefix marks a notification that a waiting customer's response
// target passed (the dispatcher records each breach once).
const breachPrefix = "breach:"

// ListenConversations holds one connection, taken out of the pool for good
// (hijacked), listening on ConversationChannel, and calls onChange with each
// conversation id announced (breach: the announcement is of a missed
// response target). After every (re)connection it calls onConnect:
// notifications sent while it was not listening are lost, so the listener
// must catch up. It reconnects until ctx is done, then returns ctx's error.
func (s *Store) ListenConversations(ctx context.Context, onConnect func(), onChange func(id int64, breach bool)) error {
	backoff := 100 * time.Millisecond
	for {
		err := s.listenOnce(ctx, onConnect, onChange)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, onConnect func(), onChange func(id int64, breach bool)) error {
	pc, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	conn := pc.Hijack()
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ConversationChannel}.Sanitize()); err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	onConnect()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return ctx.Err()
			}
			return fmt.Errorf("store: listen: %w", err)
		}
		payload, breach := strings.CutPrefix(n.Payload, breachPrefix)
		id, err := strconv.ParseInt(payload, 10, 64)
		if err != nil {
			continue // not ours
		}
		onChange(id, breach)
	}
}

// ConversationBrand returns the brand of a conversation, or ErrNotFound.
func (s *Store) ConversationBrand(ctx context.Context, id int64) (int64, error) {
	var b int64
	err := s.Pool.QueryRow(ctx, `SELECT brand_id FROM conversations WHERE id = $1`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("store: brand of conversation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: brand of conversation %d: %w", id, err)
	}
	return b, nil
}

// Changed is a conversation and the brand it belongs to.
type Changed struct {
	ID, BrandID int64
}

// ConversationsChangedSince lists conversations updated after since (for a
// console catching up after a reconnection), at most limit of them, the
// oldest change first.
func (s *Store) ConversationsChangedSince(ctx context.Context, since time.Time, limit int) ([]Changed, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, brand_id FROM conversations WHERE updated_at > $1 AND merged_into IS NULL
		ORDER BY updated_at LIMIT $2`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("store: conversations changed since %s: %w", since, err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Changed, error) {
		var c Changed
		err := r.Scan(&c.ID, &c.BrandID)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: conversations changed since %s: %w", since, err)
	}
	return cs, nil
}
