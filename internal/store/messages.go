package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Message is one text in a conversation, either direction.
type Message struct {
	ID             int64
	ConversationID int64
	BrandID        int64
	Direction      string
	Body           string
	Media          []Media
	From, To       string
	Status         string
	TwilioSID      string
	ErrorCode      int
	ErrorMessage   string
	Purpose        string
	Origin         string
	OriginRef      string // the agent's user id, the campaign's or trigger's id, the compliance kind
	Segments       int
	Encoding       string
	StatusReason   string     // why suppressed, held, failed or unknown
	SendAt         *time.Time // scheduled send time
	HeldUntil      *time.Time // quiet hours: when it will go
	CreatedAt      time.Time
}

const messageCols = `id, coalesce(conversation_id, 0), brand_id, direction, body, media, from_number, to_number,
	status, coalesce(twilio_sid, ''), coalesce(error_code, 0), error_message, purpose, origin, origin_ref, segments, encoding,
	status_reason, send_at, held_until, created_at`

func scanMessage(row pgx.Row) (Message, error) { return scanMessageWith(row) }

// scanMessageWith scans messageCols followed by the columns in extra.
func scanMessageWith(row pgx.Row, extra ...any) (Message, error) {
	var m Message
	var media []byte
	err := row.Scan(append([]any{&m.ID, &m.ConversationID, &m.BrandID, &m.Direction, &m.Body, &media, &m.From, &m.To,
		&m.Status, &m.TwilioSID, &m.ErrorCode, &m.ErrorMessage, &m.Purpose, &m.Origin, &m.OriginRef, &m.Segments, &m.Encoding,
		&m.StatusReason, &m.SendAt, &m.HeldUntil, &m.CreatedAt}, extra...)...)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(media, &m.Media); err != nil {
		return m, fmt.Errorf("media: %w", err)
	}
	return m, nil
}

// ConversationMessages lists a conversation's messages oldest first, at most
// limit of them after the message id afterID (keyset pagination).
func (s *Store) ConversationMessages(ctx context.Context, conversationID, afterID int64, limit int) ([]Message, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+messageCols+` FROM messages
		WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3`, conversationID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: messages of conversation %d: %w", conversationID, err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, fmt.Errorf("store: messages of conversation %d: %w", conversationID, err)
	}
	return msgs, nil
}

// MessageByID returns one message or ErrNotFound.
func (s *Store) MessageByID(ctx context.Context, id int64) (Message, error) {
	m, err := scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("store: message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: message %d: %w", id, err)
	}
	return m, nil
}

// StatusUpdate is one delivery status report from the carrier.
type StatusUpdate struct {
	SID          string
	MessageID    int64 // our id from the callback URL, 0 when absent
	Status       string
	Rank         int // position of Status in the forward-only order
	ErrorCode    int // 0 for none
	ErrorMessage string
}

// StatusOutcome says what applying a status did.
type StatusOutcome string

// Outcomes of ApplyStatus.
const (
	StatusApplied StatusOutcome = "applied" // the message moved forward (by this status or one kept for its SID)
	StatusStale   StatusOutcome = "stale"   // the message was already at or past it
	StatusPending StatusOutcome = "pending" // no such message yet: kept for when the SID appears
	StatusIgnored StatusOutcome = "ignored" // the SID is an inbound text's: a callback never touches one
)

// lockSID serialises everything that matches callbacks to messages for one
// SID: ApplyStatus and MarkSent take it first thing in their transaction, so a callback kept in pending_statuses is either seen by the
// transaction that gives a message that SID or finds the message itself.
// (Seed 11: receive_inbound's phone locks use seed 7.)
const lockSID = `SELECT pg_advisory_xact_lock(hashtextextended($1, 11))`

// ApplyStatus moves an outbound message's status forward, never back. ranks
// maps every status to its position in the order; the caller (outbound) owns
// that order. The message is found by SID, else by our id from the callback
// URL (u.MessageID), which takes the SID when a status moves it. Either way
// the callbacks kept for that SID are applied first, in arrival order, and
// forgotten, all in one transaction. A status for a message we do not know
// yet is kept in pending_statuses and applied when the SID is recorded
// (MarkSent returns them to apply, or the next callback that brings our id). A callback never touches an
// inbound message.
func (s *Store) ApplyStatus(ctx context.Context, u StatusUpdate, ranks map[string]int) (StatusOutcome, error) {
	rankJSON, err := json.Marshal(ranks)
	if err != nil {
		return "", err
	}
	var out StatusOutcome
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockSID, u.SID); err != nil {
			return err
		}
		var id int64
		var sid *string
		for attempt := 0; ; attempt++ {
			err := tx.QueryRow(ctx, `SELECT id, twilio_sid FROM messages
				WHERE direction = 'outbound' AND (twilio_sid = $1 OR ($2 > 0 AND id = $2))
				ORDER BY (twilio_sid = $1) DESC NULLS LAST LIMIT 1 FOR UPDATE`, u.SID, u.MessageID).Scan(&id, &sid)
			if err == nil {
				break
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			// No message of ours has the SID. It may be an inbound text's, or
			// the sender may have just recorded it (without this lock): look
			// again with a fresh snapshot before keeping the callback.
			var dir string
			err = tx.QueryRow(ctx, `SELECT direction FROM messages WHERE twilio_sid = $1`, u.SID).Scan(&dir)
			switch {
			case err == nil && dir == "inbound":
				out = StatusIgnored
				return nil
			case err == nil && attempt == 0:
				continue // an outbound message took the SID meanwhile
			case err != nil && !errors.Is(err, pgx.ErrNoRows):
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO pending_statuses (twilio_sid, message_id, status, error_code, error_message)
				VALUES ($1, nullif($2, 0), $3, nullif($4, 0), $5)`, u.SID, u.MessageID, u.Status, u.ErrorCode, u.ErrorMessage)
			out = StatusPending
			return err
		}
		var pending []StatusUpdate
		if sid == nil || *sid == u.SID {
			if sid == nil {
				// Matched by our id: the message is about to take the SID,
				// which an inbound text may hold (never two of ours: that one
				// would have matched first).
				var taken bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE twilio_sid = $1 AND id <> $2)`, u.SID, id).Scan(&taken); err != nil {
					return err
				}
				if taken {
					out = StatusIgnored
					return nil
				}
			}
			// The callbacks that came for the SID before the message had it.
			// Those that do not move it now never will (statuses only move
			// forward), so all of them are forgotten.
			ps, err := takePending(ctx, tx, u.SID, ranks)
			if err != nil {
				return err
			}
			pending = ps
		}
		moved, err := moveForward(ctx, tx, id, append(pending, u), rankJSON)
		if err != nil {
			return err
		}
		out = StatusStale
		if slices.Contains(moved, true) {
			out = StatusApplied
			// The console shows statuses live; the bump lets a reconnecting
			// console catch up on it.
			_, err := tx.Exec(ctx, `WITH u AS (UPDATE conversations SET updated_at = now()
				WHERE id = (SELECT conversation_id FROM messages WHERE id = $1) RETURNING id AS conversation_id)`+notifyChanged, id)
			return err
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: apply status %s to %s: %w", u.Status, u.SID, err)
	}
	return out, nil
}

// takePending removes the callbacks kept for sid and returns them in arrival
// order, ranked.
func takePending(ctx context.Context, tx pgx.Tx, sid string, ranks map[string]int) ([]StatusUpdate, error) {
	rows, err := tx.Query(ctx, `WITH gone AS (DELETE FROM pending_statuses WHERE twilio_sid = $1
			RETURNING id, twilio_sid, coalesce(message_id, 0) AS message_id, status, coalesce(error_code, 0) AS error_code, error_message)
		SELECT twilio_sid, message_id, status, error_code, error_message FROM gone ORDER BY id`, sid)
	if err != nil {
		return nil, fmt.Errorf("pending statuses: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StatusUpdate, error) {
		var u StatusUpdate
		err := r.Scan(&u.SID, &u.MessageID, &u.Status, &u.ErrorCode, &u.ErrorMessage)
		u.Rank = ranks[u.Status]
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending statuses: %w", err)
	}
	return ps, nil
}

// moveForward applies updates to message id in order, each only if it ranks
// above the status the message has then, and says which ones moved it. The
// caller holds the row lock.
func moveForward(ctx context.Context, tx pgx.Tx, id int64, updates []StatusUpdate, rankJSON []byte) ([]bool, error) {
	moved := make([]bool, len(updates))
	for i, u := range updates {
		tag, err := tx.Exec(ctx, `UPDATE messages SET status = $2, twilio_sid = coalesce(twilio_sid, $3),
				error_code = coalesce(nullif($4, 0), error_code),
				error_message = CASE WHEN $5 <> '' THEN $5 ELSE error_message END, updated_at = now()
			WHERE id = $1 AND coalesce(($6::jsonb ->> status)::int, 0) < $7`,
			id, u.Status, u.SID, u.ErrorCode, u.ErrorMessage, rankJSON, u.Rank)
		if err != nil {
			return nil, err
		}
		moved[i] = tag.RowsAffected() == 1
	}
	return moved, nil
}

// MessagesBetween lists the latest texts exchanged between a brand number and a
// phone, oldest first (the dev phone simulator shows them).
func (s *Store) MessagesBetween(ctx context.Context, brandNumber, phone string, limit int) ([]Message, error) {
	rows, err := s.Pool.Query(ctx, `SELECT * FROM (SELECT `+messageCols+` FROM messages
		WHERE (from_number = $1 AND to_number = $2) OR (from_number = $2 AND to_number = $1)
		ORDER BY id DESC LIMIT $3) m ORDER BY id`, brandNumber, phone, limit)
	if err != nil {
		return nil, fmt.Errorf("store: messages between: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, fmt.Errorf("store: messages between: %w", err)
	}
	return msgs, nil
}

func unmarshalMedia(b []byte, into *[]Media) error {
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("store: media: %w", err)
	}
	return nil
}
