package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	Segments       int
	Encoding       string
	StatusReason   string     // why suppressed, held, failed or unknown
	SendAt         *time.Time // scheduled send time
	HeldUntil      *time.Time // quiet hours: when it will go
	CreatedAt      time.Time
}

const messageCols = `id, coalesce(conversation_id, 0), brand_id, direction, body, media, from_number, to_number,
	status, coalesce(twilio_sid, ''), coalesce(error_code, 0), error_message, purpose, origin, segments, encoding,
	status_reason, send_at, held_until, created_at`

func scanMessage(row pgx.Row) (Message, error) {
	var m Message
	var media []byte
	err := row.Scan(&m.ID, &m.ConversationID, &m.BrandID, &m.Direction, &m.Body, &media, &m.From, &m.To,
		&m.Status, &m.TwilioSID, &m.ErrorCode, &m.ErrorMessage, &m.Purpose, &m.Origin, &m.Segments, &m.Encoding,
		&m.StatusReason, &m.SendAt, &m.HeldUntil, &m.CreatedAt)
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
	StatusApplied StatusOutcome = "applied" // the message moved forward
	StatusStale   StatusOutcome = "stale"   // the message was already at or past it
	StatusPending StatusOutcome = "pending" // no such message yet: kept for when the SID appears
)

// ApplyStatus moves a message's status forward, never back. ranks maps every
// status to its position in the order; the caller (outbound) owns that order.
// A status for a message we do not know yet is kept in pending_statuses and
// applied by ApplyPendingStatuses when the SID is recorded.
func (s *Store) ApplyStatus(ctx context.Context, u StatusUpdate, ranks map[string]int) (StatusOutcome, error) {
	rankJSON, err := json.Marshal(ranks)
	if err != nil {
		return "", err
	}
	var out StatusOutcome
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		var cur string
		err := tx.QueryRow(ctx, `SELECT id, status FROM messages
			WHERE (twilio_sid = $1 OR ($2 > 0 AND id = $2 AND direction = 'outbound'))
			ORDER BY (twilio_sid = $1) DESC NULLS LAST LIMIT 1 FOR UPDATE`, u.SID, u.MessageID).Scan(&id, &cur)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO pending_statuses (twilio_sid, message_id, status, error_code, error_message)
				VALUES ($1, nullif($2, 0), $3, nullif($4, 0), $5)`, u.SID, u.MessageID, u.Status, u.ErrorCode, u.ErrorMessage)
			out = StatusPending
			return err
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE messages SET status = $2, twilio_sid = coalesce(twilio_sid, $3),
				error_code = coalesce(nullif($4, 0), error_code),
				error_message = CASE WHEN $5 <> '' THEN $5 ELSE error_message END, updated_at = now()
			WHERE id = $1 AND coalesce(($6::jsonb ->> status)::int, 0) < $7`,
			id, u.Status, u.SID, u.ErrorCode, u.ErrorMessage, rankJSON, u.Rank)
		if err != nil {
			return err
		}
		out = StatusStale
		if tag.RowsAffected() == 1 {
			out = StatusApplied
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: apply status %s to %s: %w", u.Status, u.SID, err)
	}
	return out, nil
}

// ApplyPendingStatuses applies, in arrival order, the callbacks that came for
// sid before the message knew it, and forgets them. The sender calls it once
// it has recorded the SID of a sent message.
func (s *Store) ApplyPendingStatuses(ctx context.Context, sid string, ranks map[string]int) (int, error) {
	rows, err := s.Pool.Query(ctx, `DELETE FROM pending_statuses WHERE twilio_sid = $1
		RETURNING twilio_sid, coalesce(message_id, 0), status, coalesce(error_code, 0), error_message, id`, sid)
	if err != nil {
		return 0, fmt.Errorf("store: pending statuses of %s: %w", sid, err)
	}
	type pend struct {
		u  StatusUpdate
		id int64
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pend, error) {
		var p pend
		err := r.Scan(&p.u.SID, &p.u.MessageID, &p.u.Status, &p.u.ErrorCode, &p.u.ErrorMessage, &p.id)
		return p, err
	})
	if err != nil {
		return 0, fmt.Errorf("store: pending statuses of %s: %w", sid, err)
	}
	n := 0
	for _, p := range ps {
		p.u.Rank = ranks[p.u.Status]
		if o, err := s.ApplyStatus(ctx, p.u, ranks); err != nil {
			return n, err
		} else if o == StatusApplied {
			n++
		}
	}
	return n, nil
}

// SetMessageSID records the carrier's SID for an outbound message that has none.
func (s *Store) SetMessageSID(ctx context.Context, messageID int64, sid string) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE messages SET twilio_sid = $2, updated_at = now()
		WHERE id = $1 AND (twilio_sid IS NULL OR twilio_sid = $2)`, messageID, sid)
	if err != nil {
		return fmt.Errorf("store: set sid of message %d: %w", messageID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: set sid of message %d: %w", messageID, ErrNotFound)
	}
	return nil
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
