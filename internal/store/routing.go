package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RoutingContext is what routing reads about a phone's customer and their
// conversation with a brand before deciding an automated answer.
type RoutingContext struct {
	ContactID      int64 // 0: a phone never seen
	Name           string
	LoyaltyID      string
	Attributes     map[string]any
	Timezone       string
	ConversationID int64  // 0: no conversation with the brand yet
	Status         string // the conversation's status before the text
	// Automated are the conversation's automated texts, newest first (at
	// most 101: enough for the highest hourly limit), each with when the
	// customer next wrote.
	Automated []AutomatedText
}

// AutomatedText is one auto-reply or after-hours acknowledgement.
type AutomatedText struct {
	ID         int64
	Kind       string // auto_reply or after_hours
	Body       string
	At         time.Time  // when the text it answered arrived
	AnsweredAt *time.Time // when the customer next wrote
}

// RoutingContext reads the context of a text from phone to brandID, in one
// round trip, outside the inbound transaction: receive_inbound re-checks
// that no automated text arrived since (AutoAnswer.After).
func (s *Store) RoutingContext(ctx context.Context, brandID int64, phone string) (RoutingContext, error) {
	var rc RoutingContext
	var attrs, automated []byte
	err := s.Pool.QueryRow(ctx, `
		SELECT ct.id, ct.name, coalesce(ct.loyalty_id, ''), ct.attributes, ct.timezone,
			coalesce(c.id, 0), coalesce(c.status, ''),
			coalesce((SELECT json_agg(a ORDER BY a.id DESC) FROM (
				SELECT m.id, m.origin AS kind, m.body, coalesce(m.received_at, m.created_at) AS at,
					(SELECT coalesce(i.received_at, i.created_at) FROM messages i
					  WHERE i.conversation_id = m.conversation_id AND i.direction = 'inbound' AND i.id > m.id
					  ORDER BY i.id LIMIT 1) AS answered_at
				FROM messages m
				WHERE m.conversation_id = c.id AND m.origin IN ('auto_reply', 'after_hours')
				ORDER BY m.id DESC LIMIT 101) a), '[]')
		FROM contact_phones p
		JOIN contacts ct ON ct.id = p.contact_id
		LEFT JOIN conversations c ON c.contact_id = ct.id AND c.brand_id = $1 AND c.merged_into IS NULL
		WHERE p.phone = $2`, brandID, phone).
		Scan(&rc.ContactID, &rc.Name, &rc.LoyaltyID, &attrs, &rc.Timezone, &rc.ConversationID, &rc.Status, &automated)
	if errors.Is(err, pgx.ErrNoRows) {
		return RoutingContext{}, nil
	}
	if err != nil {
		return rc, fmt.Errorf("store: routing context: %w", err)
	}
	if err := json.Unmarshal(attrs, &rc.Attributes); err != nil {
		return rc, fmt.Errorf("store: routing context: attributes: %w", err)
	}
	var rows []struct {
		ID         int64      `json:"id"`
		Kind       string     `json:"kind"`
		Body       string     `json:"body"`
		At         time.Time  `json:"at"`
		AnsweredAt *time.Time `json:"answered_at"`
	}
	if err := json.Unmarshal(automated, &rows); err != nil {
		return rc, fmt.Errorf("store: routing context: automated texts: %w", err)
	}
	for _, r := range rows {
		rc.Automated = append(rc.Automated, AutomatedText(r))
	}
	return rc, nil
}

// AutoReply is one keyword rule of a brand.
type AutoReply struct {
	ID          int64
	BrandID     int64
	Position    int
	Match       string
	Pattern     string
	Reply       string
	HandToAgent bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const autoReplyCols = `id, brand_id, position, match, pattern, reply, hand_to_agent, created_at, updated_at`

func scanAutoReply(r pgx.Row) (AutoReply, error) {
	var a AutoReply
	err := r.Scan(&a.ID, &a.BrandID, &a.Position, &a.Match, &a.Pattern, &a.Reply, &a.HandToAgent, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

// AutoReplies lists a brand's rules in the order they are tried (position,
// then id), keyset-paginated: after is the previous page's last (position,
// id); limit 0 means all.
func (s *Store) AutoReplies(ctx context.Context, brandID int64, afterPos int, afterID int64, limit int) ([]AutoReply, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+autoReplyCols+` FROM auto_replies
		WHERE brand_id = $1 AND (position, id) > ($2, $3) ORDER BY position, id LIMIT $4`, brandID, afterPos, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: auto-replies: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AutoReply, error) { return scanAutoReply(r) })
	if err != nil {
		return nil, fmt.Errorf("store: auto-replies: %w", err)
	}
	return out, nil
}

// AllAutoReplies lists every brand's rules, for the inbound path's cache.
func (s *Store) AllAutoReplies(ctx context.Context) ([]AutoReply, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+autoReplyCols+` FROM auto_replies ORDER BY brand_id, position, id`)
	if err != nil {
		return nil, fmt.Errorf("store: auto-replies: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AutoReply, error) { return scanAutoReply(r) })
	if err != nil {
		return nil, fmt.Errorf("store: auto-replies: %w", err)
	}
	return out, nil
}

// AutoReply returns one rule of a brand, ErrNotFound if the brand has no
// such rule.
func (s *Store) AutoReply(ctx context.Context, brandID, id int64) (AutoReply, error) {
	a, err := scanAutoReply(s.Pool.QueryRow(ctx, `SELECT `+autoReplyCols+` FROM auto_replies WHERE brand_id = $1 AND id = $2`, brandID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("store: auto-reply %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: auto-reply %d: %w", id, err)
	}
	return a, nil
}

// SaveAutoReply creates a rule (ID 0) or replaces one of the brand's
// (ErrNotFound if it has no such rule). Position 0 on create puts the rule
// last.
func (s *Store) SaveAutoReply(ctx context.Context, a AutoReply) (AutoReply, error) {
	var row pgx.Row
	if a.ID == 0 {
		row = s.Pool.QueryRow(ctx, `INSERT INTO auto_replies (brand_id, position, match, pattern, reply, hand_to_agent)
			VALUES ($1, CASE WHEN $2 > 0 THEN $2 ELSE (SELECT coalesce(max(position), 0) + 1 FROM auto_replies WHERE brand_id = $1) END,
				$3, $4, $5, $6)
			RETURNING `+autoReplyCols, a.BrandID, a.Position, a.Match, a.Pattern, a.Reply, a.HandToAgent)
	} else {
		row = s.Pool.QueryRow(ctx, `UPDATE auto_replies SET position = $3, match = $4, pattern = $5, reply = $6,
				hand_to_agent = $7, updated_at = now()
			WHERE brand_id = $1 AND id = $2 RETURNING `+autoReplyCols, a.BrandID, a.ID, a.Position, a.Match, a.Pattern, a.Reply, a.HandToAgent)
	}
	out, err := scanAutoReply(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("store: auto-reply %d: %w", a.ID, ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("store: save auto-reply: %w", err)
	}
	return out, nil
}

// DeleteAutoReply removes one of the brand's rules; ErrNotFound if it has
// no such rule.
func (s *Store) DeleteAutoReply(ctx context.Context, brandID, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM auto_replies WHERE brand_id = $1 AND id = $2`, brandID, id)
	if err != nil {
		return fmt.Errorf("store: delete auto-reply %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: auto-reply %d: %w", id, ErrNotFound)
	}
	return nil
}

// BrandSettings returns a brand's routing settings document as stored (the
// API's shape), "{}" when none was saved.
func (s *Store) BrandSettings(ctx context.Context, brandID int64) ([]byte, error) {
	var doc []byte
	err := s.Pool.QueryRow(ctx, `SELECT coalesce((SELECT settings FROM brand_settings WHERE brand_id = $1), '{}')`, brandID).Scan(&doc)
	if err != nil {
		return nil, fmt.Errorf("store: settings of brand %d: %w", brandID, err)
	}
	return doc, nil
}

// AllBrandSettings returns every brand's saved settings document by brand id.
func (s *Store) AllBrandSettings(ctx context.Context) (map[int64][]byte, error) {
	rows, err := s.Pool.Query(ctx, `SELECT brand_id, settings FROM brand_settings`)
	if err != nil {
		return nil, fmt.Errorf("store: brand settings: %w", err)
	}
	out := map[int64][]byte{}
	var id int64
	var doc []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &doc}, func() error { out[id] = append([]byte(nil), doc...); return nil }); err != nil {
		return nil, fmt.Errorf("store: brand settings: %w", err)
	}
	return out, nil
}

// BrandSettingsRow is a brand's settings document with the two brand
// columns it carries: the time zone and the first-response target.
type BrandSettingsRow struct {
	Doc        []byte // "{}" when none was saved
	Timezone   string
	SLAMinutes int
}

// UpdateBrandSettings reads a brand's settings under a row lock, lets
// change compute the new ones from them, and stores the result, in one
// transaction; an error from change stores nothing. ErrNotFound for an
// unknown brand.
func (s *Store) UpdateBrandSettings(ctx context.Context, brandID int64, change func(BrandSettingsRow) (BrandSettingsRow, error)) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var cur BrandSettingsRow
		// The lock first; the settings then, in a statement of their own,
		// so that they are read after any earlier holder committed (a
		// joined row would come from the snapshot taken before the wait).
		err := tx.QueryRow(ctx, `SELECT timezone, sla_minutes FROM brands WHERE id = $1 FOR UPDATE`, brandID).
			Scan(&cur.Timezone, &cur.SLAMinutes)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store: settings of brand %d: %w", brandID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: settings of brand %d: %w", brandID, err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT settings FROM brand_settings WHERE brand_id = $1), '{}')`, brandID).Scan(&cur.Doc); err != nil {
			return fmt.Errorf("store: settings of brand %d: %w", brandID, err)
		}
		next, err := change(cur)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO brand_settings (brand_id, settings) VALUES ($1, $2)
			ON CONFLICT (brand_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()`, brandID, next.Doc); err != nil {
			return fmt.Errorf("store: save settings of brand %d: %w", brandID, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE brands SET timezone = $2, sla_minutes = $3 WHERE id = $1`, brandID, next.Timezone, next.SLAMinutes); err != nil {
			return fmt.Errorf("store: save time zone of brand %d: %w", brandID, err)
		}
		return nil
	})
}
