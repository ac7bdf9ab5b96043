package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Webhook is a brand's subscription of one URL to some events.
type Webhook struct {
	ID        int64
	BrandID   int64
	BrandSlug string
	URL       string
	Events    []string
	Secret    string
	CreatedAt time.Time
}

// WebhookDelivery is one event for one subscription: the outbox row and
// its log entry.
type WebhookDelivery struct {
	ID             int64
	WebhookID      int64
	EventID        string
	Type           string
	ConversationID int64 // 0: not ordered
	Body           string
	Status         string // pending, delivered, failed, cancelled
	Attempts       int
	LastCode       int // 0: no answer
	LastError      string
	NextAt         time.Time
	CreatedAt      time.Time
	DoneAt         *time.Time
}

// NewDelivery is a delivery to write.
type NewDelivery struct {
	WebhookID      int64
	EventID        string
	Type           string
	ConversationID int64
	Body           string
}

const webhookCols = `w.id, w.brand_id, b.slug, w.url, w.events, w.secret, w.created_at`

func scanWebhooks(rows pgx.Rows) ([]Webhook, error) {
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		var w Webhook
		if err := rows.Scan(&w.ID, &w.BrandID, &w.BrandSlug, &w.URL, &w.Events, &w.Secret, &w.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// CreateWebhook stores a subscription and returns it.
func (s *Store) CreateWebhook(ctx context.Context, brandID int64, url string, events []string, secret string) (Webhook, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `INSERT INTO webhooks (brand_id, url, events, secret) VALUES ($1, $2, $3, $4) RETURNING id`,
		brandID, url, events, secret).Scan(&id)
	if err != nil {
		return Webhook{}, fmt.Errorf("store: create webhook: %w", err)
	}
	return s.WebhookByID(ctx, id)
}

// WebhookByID returns a subscription that is not deleted, or ErrNotFound.
func (s *Store) WebhookByID(ctx context.Context, id int64) (Webhook, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+webhookCols+` FROM webhooks w JOIN brands b ON b.id = w.brand_id
		WHERE w.id = $1 AND w.deleted_at IS NULL`, id)
	if err != nil {
		return Webhook{}, fmt.Errorf("store: webhook %d: %w", id, err)
	}
	ws, err := scanWebhooks(rows)
	if err != nil {
		return Webhook{}, fmt.Errorf("store: webhook %d: %w", id, err)
	}
	if len(ws) == 0 {
		return Webhook{}, ErrNotFound
	}
	return ws[0], nil
}

// Webhooks lists subscriptions, newest first, ids below before (0: from the
// newest), of brandIDs (nil: every brand).
func (s *Store) Webhooks(ctx context.Context, brandIDs []int64, before int64, limit int) ([]Webhook, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+webhookCols+` FROM webhooks w JOIN brands b ON b.id = w.brand_id
		WHERE w.deleted_at IS NULL AND w.id < $1 AND ($2::bigint[] IS NULL OR w.brand_id = ANY($2)) ORDER BY w.id DESC LIMIT $3`,
		before, brandIDs, limit)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	out, err := scanWebhooks(rows)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	return out, nil
}

// AllWebhooks returns every live subscription, for the emitters' cache.
func (s *Store) AllWebhooks(ctx context.Context) ([]Webhook, error) {
	return s.Webhooks(ctx, nil, 0, 1<<31-1)
}

// DeleteWebhook deletes a subscription and cancels its pending deliveries,
// in one transaction: nothing more is sent to its URL.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhooks SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'cancelled', done_at = now()
			WHERE webhook_id = $1 AND status = 'pending'`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete webhook %d: %w", id, err)
	}
	return nil
}

// AddDeliveries writes deliveries in one statement and returns their ids
// in the order given.
func (s *Store) AddDeliveries(ctx context.Context, ds []NewDelivery) ([]int64, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	hooks, events, types, convs, bodies := make([]int64, len(ds)), make([]string, len(ds)), make([]string, len(ds)),
		make([]int64, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		hooks[i], events[i], types[i], convs[i], bodies[i] = d.WebhookID, d.EventID, d.Type, d.ConversationID, d.Body
	}
	rows, err := s.Pool.Query(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, type, conversation_id, body)
		SELECT h, e, t, nullif(c, 0), b FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[])
			WITH ORDINALITY AS u(h, e, t, c, b, n) ORDER BY n
		RETURNING id`, hooks, events, types, convs, bodies)
	if err != nil {
		return nil, fmt.Errorf("store: add deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: add deliveries: %w", err)
	}
	return ids, nil
}

const deliveryCols = `id, webhook_id, event_id, type, coalesce(conversation_id, 0), body, status, attempts, coalesce(last_code, 0),
	last_error, next_at, created_at, done_at`

func scanDelivery(row pgx.Row) (WebhookDelivery, error) {
	var d WebhookDelivery
	err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Type, &d.ConversationID, &d.Body, &d.Status, &d.Attempts, &d.LastCode,
		&d.LastError, &d.NextAt, &d.CreatedAt, &d.DoneAt)
	return d, err
}

// DeliveryToSend is a pending delivery with its subscription, for the
// worker; Blocked is the next attempt time of an earlier pending delivery
// of the same subscription and conversation (nil: none, send now).
type DeliveryToSend struct {
	WebhookDelivery
	URL, Secret string
	Blocked     *time.Time
}

// DeliveryToSend reads delivery id for sending. ErrNotFound: it is no
// longer pending (delivered, failed, cancelled) or does not exist.
func (s *Store) DeliveryToSend(ctx context.Context, id int64) (DeliveryToSend, error) {
	var out DeliveryToSend
	row := s.Pool.QueryRow(ctx, `SELECT d.id, d.webhook_id, d.event_id, d.type, coalesce(d.conversation_id, 0), d.body, d.status,
			d.attempts, coalesce(d.last_code, 0), d.last_error, d.next_at, d.created_at, d.done_at, w.url, w.secret,
			(SELECT min(e.next_at) FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.conversation_id = d.conversation_id
				AND e.status = 'pending' AND e.id < d.id)
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.id = $1 AND d.status = 'pending' AND w.deleted_at IS NULL`, id)
	var d WebhookDelivery
	err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Type, &d.ConversationID, &d.Body, &d.Status, &d.Attempts, &d.LastCode,
		&d.LastError, &d.NextAt, &d.CreatedAt, &d.DoneAt, &out.URL, &out.Secret, &out.Blocked)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, ErrNotFound
	}
	if err != nil {
		return out, fmt.Errorf("store: delivery %d: %w", id, err)
	}
	out.WebhookDelivery = d
	return out, nil
}

// DeliveryAttempt is the outcome of one attempt.
type DeliveryAttempt struct {
	Code   int    // the receiver's HTTP status, 0 for none
	Error  string // "" on success
	Status string // pending (retry at NextAt), delivered, failed
	NextAt time.Time
}

// RecordAttempt counts an attempt of a pending delivery and records its
// outcome.
func (s *Store) RecordAttempt(ctx context.Context, id int64, a DeliveryAttempt) error {
	var next *time.Time
	if a.Status == "pending" {
		next = &a.NextAt
	}
	_, err := s.Pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_code = nullif($2, 0), last_error = $3,
		status = $4, next_at = coalesce($5, next_at), done_at = CASE WHEN $4 = 'pending' THEN NULL ELSE now() END
		WHERE id = $1 AND status = 'pending'`, id, a.Code, a.Error, a.Status, next)
	if err != nil {
		return fmt.Errorf("store: record delivery attempt %d: %w", id, err)
	}
	return nil
}

// Deliveries is a subscription's delivery log, newest first, ids below
// before (0: from the newest).
func (s *Store) Deliveries(ctx context.Context, webhookID, before int64, limit int) ([]WebhookDelivery, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries
		WHERE webhook_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, webhookID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of webhook %d: %w", webhookID, err)
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: deliveries of webhook %d: %w", webhookID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// OverdueDeliveries returns up to limit pending deliveries whose attempt
// is more than grace late (their task was lost), oldest first.
func (s *Store) OverdueDeliveries(ctx context.Context, grace time.Duration, limit int) ([]int64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_at < now() - $1::interval
		ORDER BY next_at LIMIT $2`, fmt.Sprintf("%d milliseconds", grace.Milliseconds()), limit)
	if err != nil {
		return nil, fmt.Errorf("store: overdue deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: overdue deliveries: %w", err)
	}
	return ids, nil
}

// HookMessage is what a message.status event says about a message.
type HookMessage struct {
	ID             int64
	BrandID        int64
	ConversationID int64
	Direction      string
	Status         string
	ErrorCode      int
	Phone          string
}

// HookMessageBy finds a message by its carrier SID or, with sid empty, by
// id, for a message.status event.
func (s *Store) HookMessageBy(ctx context.Context, sid string, id int64) (HookMessage, error) {
	var m HookMessage
	where, arg := `m.id = $1`, any(id)
	if sid != "" {
		where, arg = `m.twilio_sid = $1`, sid
	}
	err := s.Pool.QueryRow(ctx, `SELECT m.id, m.brand_id, coalesce(m.conversation_id, 0), m.direction, m.status,
			coalesce(m.error_code, 0), m.to_number FROM messages m WHERE `+where, arg).
		Scan(&m.ID, &m.BrandID, &m.ConversationID, &m.Direction, &m.Status, &m.ErrorCode, &m.Phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("store: message for webhook: %w", err)
	}
	return m, nil
}
