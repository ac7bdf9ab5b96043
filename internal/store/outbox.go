package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// OutboundRow is a text to queue. The recipient is a phone, resolved to its
// contact and conversation (both created when new) in the same transaction.
type OutboundRow struct {
	BrandID   int64
	From      string // the brand number it goes from
	To        string // E.164
	Body      string
	Media     []Media
	Purpose   string
	Origin    string // agent, auto_reply, compliance, api, campaign, trigger
	OriginRef string
	Queue     string // replies, proactive or bulk
	SendAt    *time.Time
	Segments  int
	Encoding  string
	// Ask, when set, makes the text ask a question: its answer is the
	// customer's next text (recorded in the same transaction as the text).
	Ask *Ask
}

// Ask is the question a queued text asks.
type Ask struct {
	QuestionID int64
	Window     time.Duration
	TriggerID  int64  // 0 unless a rule asks
	Origin     string // trigger, campaign, agent, api, csat
}

// Queued is an outbound row as stored.
type Queued struct {
	ID             int64
	ConversationID int64
	ContactID      int64
	To             string
	Queue          string
	SendAt         *time.Time
	CreatedAt      time.Time
}

// ErrNoPhone is returned when a contact has no phone to text.
var ErrNoPhone = errors.New("the contact has no phone")

// RecipientOf resolves a loyalty ID or contact id to the phone a text should go
// to in brandID: the conversation's last phone if there is one, else the
// contact's newest phone.
func (s *Store) RecipientOf(ctx context.Context, brandID, contactID int64, loyaltyID string) (int64, string, error) {
	var id int64
	var phone *string
	err := s.Pool.QueryRow(ctx, `
		SELECT c.id, coalesce(
			(SELECT cv.last_phone FROM conversations cv JOIN contact_phones p ON p.phone = cv.last_phone AND p.contact_id = c.id
			  WHERE cv.brand_id = $1 AND cv.contact_id = c.id AND cv.merged_into IS NULL),
			(SELECT p.phone FROM contact_phones p WHERE p.contact_id = c.id ORDER BY p.created_at DESC, p.phone LIMIT 1))
		FROM contacts c
		WHERE c.merged_into IS NULL AND (($2 > 0 AND c.id = $2) OR ($3 <> '' AND c.loyalty_id = $3))`,
		brandID, contactID, loyaltyID).Scan(&id, &phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", fmt.Errorf("store: recipient: %w", ErrNotFound)
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: recipient: %w", err)
	}
	if phone == nil {
		return id, "", fmt.Errorf("store: recipient of contact %d: %w", id, ErrNoPhone)
	}
	return id, *phone, nil
}

// QueueOutbound inserts outbound rows (status queued) with their contacts and
// conversations in one transaction. The caller enqueues the tasks after it
// returns; the relay covers a crash in between.
func (s *Store) QueueOutbound(ctx context.Context, rows []OutboundRow) ([]Queued, error) {
	out := make([]Queued, 0, len(rows))
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		for _, r := range rows {
			q, err := queueOne(ctx, tx, r)
			if err != nil {
				return err
			}
			out = append(out, q)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func queueOne(ctx context.Context, tx pgx.Tx, r OutboundRow) (Queued, error) {
	q := Queued{To: r.To, Queue: r.Queue, SendAt: r.SendAt}
	// Same per-phone lock as the inbound pipeline: no duplicate contact.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, r.To); err != nil {
		return q, fmt.Errorf("store: queue outbound: lock: %w", err)
	}
	err := tx.QueryRow(ctx, `SELECT contact_id FROM contact_phones WHERE phone = $1`, r.To).Scan(&q.ContactID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if err := tx.QueryRow(ctx, `INSERT INTO contacts DEFAULT VALUES RETURNING id`).Scan(&q.ContactID); err != nil {
			return q, fmt.Errorf("store: queue outbound: contact: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2)`, r.To, q.ContactID); err != nil {
			return q, fmt.Errorf("store: queue outbound: phone: %w", err)
		}
	case err != nil:
		return q, fmt.Errorf("store: queue outbound: contact: %w", err)
	}
	// The conversation is found or opened, but an outbound text does not reopen
	// a closed one nor change where replies go: that is the customer's doing.
	err = tx.QueryRow(ctx, `
		WITH found AS (
			UPDATE conversations SET last_message_at = greatest(last_message_at, now()), updated_at = now(),
			       waiting_since = CASE WHEN $4 THEN NULL ELSE waiting_since END, -- an agent's answer stops the clock
			       answered_at = CASE WHEN $4 THEN now() ELSE answered_at END
			 WHERE brand_id = $1 AND contact_id = $2 AND merged_into IS NULL RETURNING id),
		opened AS (
			INSERT INTO conversations (brand_id, contact_id, last_phone, status)
			SELECT $1, $2, $3, 'open' WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING id)
		SELECT id FROM found UNION ALL SELECT id FROM opened`, r.BrandID, q.ContactID, r.To, r.Origin == "agent").Scan(&q.ConversationID)
	if err != nil {
		return q, fmt.Errorf("store: queue outbound: conversation: %w", err)
	}
	media, err := marshalMedia(r.Media)
	if err != nil {
		return q, err
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO messages (conversation_id, brand_id, direction, body, media, from_number, to_number, status,
			purpose, origin, origin_ref, queue, send_at, segments, encoding)
		VALUES ($1, $2, 'outbound', $3, $4, $5, $6, 'queued', $7, $8, $9, $10, $11, $12, $13)
		RETURNING id, created_at`,
		q.ConversationID, r.BrandID, r.Body, media, r.From, r.To, r.Purpose, r.Origin, r.OriginRef, r.Queue,
		r.SendAt, r.Segments, r.Encoding).Scan(&q.ID, &q.CreatedAt)
	if err != nil {
		return q, fmt.Errorf("store: queue outbound: insert: %w", err)
	}
	if a := r.Ask; a != nil {
		if _, err := tx.Exec(ctx, `INSERT INTO question_asks (question_id, brand_id, contact_id, conversation_id, message_id, trigger_id,
			origin, expires_at) VALUES ($1, $2, $3, $4, $5, nullif($6, 0), $7, now() + $8::interval)`,
			a.QuestionID, r.BrandID, q.ContactID, q.ConversationID, q.ID, a.TriggerID, a.Origin, a.Window.String()); err != nil {
			return q, fmt.Errorf("store: queue outbound: question: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify('parley_conversation', $1::bigint::text)`, q.ConversationID); err != nil {
		return q, fmt.Errorf("store: queue outbound: notify: %w", err)
	}
	return q, nil
}

// MarkEnqueued records that the tasks of ids reached the queue.
func (s *Store) MarkEnqueued(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.Pool.Exec(ctx, `UPDATE messages SET enqueued_at = now() WHERE id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("store: mark enqueued: %w", err)
	}
	return nil
}

// MarkEnqueuedIn records that ids were enqueued together in the grouped task
// taskKey ("" when each has a task of its own again: the relay then asks the
// queue for the message's own task).
func (s *Store) MarkEnqueuedIn(ctx context.Context, ids []int64, taskKey string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.Pool.Exec(ctx, `UPDATE messages SET enqueued_at = now(), task_key = nullif($2, '') WHERE id = ANY($1)`, ids, taskKey)
	if err != nil {
		return fmt.Errorf("store: mark enqueued: %w", err)
	}
	return nil
}

// Unfinished is an outbound row the relay may have to enqueue again.
type Unfinished struct {
	ID    int64
	Queue string
	At    time.Time // when it may go: held_until, send_at or now
	From  string
	// TaskKey is the grouped task that carries it ("": its own task).
	TaskKey string
}

// UnenqueuedOutbound lists queued or held rows older than minAge whose task
// never reached the queue (all of them when all is true: the queue was lost).
// Keyset pagination by id after afterID.
func (s *Store) UnenqueuedOutbound(ctx context.Context, minAge time.Duration, all bool, afterID int64, limit int) ([]Unfinished, error) {
	// Two spellings so that the everyday sweep matches the partial index
	// messages_unenqueued (a parameter would hide its predicate from the planner).
	cond := `enqueued_at IS NULL`
	if all {
		cond = `true`
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT id, coalesce(queue, 'replies'), coalesce(held_until, send_at, now()), from_number, coalesce(task_key, '')
		FROM messages
		WHERE direction = 'outbound' AND status IN ('queued', 'held') AND id > $1
		  AND `+cond+` AND created_at < now() - $2::interval
		ORDER BY id LIMIT $3`, afterID, minAge.String(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: unenqueued outbound: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Unfinished])
	if err != nil {
		return nil, fmt.Errorf("store: unenqueued outbound: %w", err)
	}
	return out, nil
}

// SenderFor picks the brand number a text to phone goes from — the number the
// customer last texted, else the brand's first — and says when the customer
// last wrote to the brand (nil if never).
func (s *Store) SenderFor(ctx context.Context, brandID int64, phone string) (from string, lastInbound *time.Time, err error) {
	var f *string
	err = s.Pool.QueryRow(ctx, `
		WITH conv AS (
			SELECT cv.id, cv.last_inbound_at FROM conversations cv
			JOIN contact_phones p ON p.contact_id = cv.contact_id
			WHERE p.phone = $2 AND cv.brand_id = $1 AND cv.merged_into IS NULL)
		SELECT coalesce(
			(SELECT m.to_number FROM messages m JOIN brand_numbers n ON n.number = m.to_number AND n.brand_id = $1
			  WHERE m.conversation_id = (SELECT id FROM conv) AND m.direction = 'inbound' ORDER BY m.id DESC LIMIT 1),
			(SELECT number FROM brand_numbers WHERE brand_id = $1 ORDER BY created_at, number LIMIT 1)),
			(SELECT last_inbound_at FROM conv)`, brandID, phone).Scan(&f, &lastInbound)
	if err != nil {
		return "", nil, fmt.Errorf("store: sender for brand %d: %w", brandID, err)
	}
	if f == nil {
		return "", nil, fmt.Errorf("store: brand %d has no number: %w", brandID, ErrNotFound)
	}
	return *f, lastInbound, nil
}

// Waiting is a queued or held row, and whether its time (held_until, send_at
// or created_at) is long past: its task should have taken it by now.
type Waiting struct {
	Unfinished
	Overdue bool
}

// WaitingOutbound reads the next limit queued or held rows by id after
// afterID, telling which are overdue by more than overdue on the database's
// clock. A page is bounded by limit whatever the backlog, so a sweep's cost
// is too; the caller pages through the rows over successive sweeps.
func (s *Store) WaitingOutbound(ctx context.Context, overdue time.Duration, afterID int64, limit int) ([]Waiting, error) {
	// One ordered range of the messages_outbox index (status, id) per status.
	rows, err := s.Pool.Query(ctx, `
		SELECT id, coalesce(queue, 'replies'), coalesce(held_until, send_at, now()), from_number, coalesce(task_key, ''),
			coalesce(held_until, send_at, created_at) < now() - $3::bigint * interval '1 microsecond'
		FROM (
			(SELECT id, queue, held_until, send_at, created_at, from_number, task_key FROM messages
			  WHERE direction = 'outbound' AND status = 'queued' AND id > $1 ORDER BY id LIMIT $2)
			UNION ALL
			(SELECT id, queue, held_until, send_at, created_at, from_number, task_key FROM messages
			  WHERE direction = 'outbound' AND status = 'held' AND id > $1 ORDER BY id LIMIT $2)
		) w
		ORDER BY id LIMIT $2`, afterID, limit, overdue.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("store: waiting outbound: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Waiting, error) {
		var w Waiting
		err := r.Scan(&w.ID, &w.Queue, &w.At, &w.From, &w.TaskKey, &w.Overdue)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: waiting outbound: %w", err)
	}
	return out, nil
}
