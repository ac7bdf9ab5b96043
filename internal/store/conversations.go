package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Conversation is the thread between one brand and one contact.
type Conversation struct {
	ID             int64
	BrandID        int64
	BrandSlug      string
	ContactID      int64
	Status         string // open, snoozed, closed
	AssigneeID     int64  // 0 when unassigned
	AssigneeEmail  string
	LastPhone      string // where replies go
	LastMessageAt  time.Time
	NeedsAttention string
	// Priority is "high" when an unhappy answer put the conversation first
	// (PriorityReason: low_rating, negative_answer), else "normal".
	Priority       string
	PriorityReason string
	// MergedInto is the conversation that absorbed this one in a contact
	// merge, 0 while it is live.
	MergedInto int64
	CreatedAt  time.Time
}

const conversationCols = `c.id, c.brand_id, b.slug, c.contact_id, c.status, coalesce(c.assignee_id, 0), coalesce(u.email, ''),
	c.last_phone, c.last_message_at, c.needs_attention, c.priority, c.priority_reason, coalesce(c.merged_into, 0), c.created_at`

const conversationFrom = ` FROM conversations c JOIN brands b ON b.id = c.brand_id LEFT JOIN users u ON u.id = c.assignee_id`

func scanConversation(row pgx.Row) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.BrandID, &c.BrandSlug, &c.ContactID, &c.Status, &c.AssigneeID, &c.AssigneeEmail,
		&c.LastPhone, &c.LastMessageAt, &c.NeedsAttention, &c.Priority, &c.PriorityReason, &c.MergedInto, &c.CreatedAt)
	return c, err
}

// ConversationByID returns the conversation as stored, merged or not, or
// ErrNotFound.
func (s *Store) ConversationByID(ctx context.Context, id int64) (Conversation, error) {
	c, err := scanConversation(s.Pool.QueryRow(ctx, `SELECT `+conversationCols+conversationFrom+` WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("store: conversation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: conversation %d: %w", id, err)
	}
	return c, nil
}

// LiveConversation returns the conversation id now stands for: itself, or the
// conversation it was merged into (merges keep merged_into pointing at a live
// conversation, so one hop is enough). ErrNotFound when id never existed.
func (s *Store) LiveConversation(ctx context.Context, id int64) (Conversation, error) {
	c, err := scanConversation(s.Pool.QueryRow(ctx, `SELECT `+conversationCols+conversationFrom+`
		WHERE c.id = (SELECT coalesce(merged_into, id) FROM conversations WHERE id = $1)`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("store: conversation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: conversation %d: %w", id, err)
	}
	return c, nil
}

// ConversationQuery filters the conversation list; zero fields do not filter.
type ConversationQuery struct {
	BrandID int64
	// OnlyBrands, when not nil, keeps the conversations of these brands
	// (none: nothing), for a caller limited to some brands.
	OnlyBrands []int64
	ContactID  int64
	Status     string
	// Before is a keyset cursor: only conversations after this one in the
	// list's order (newest activity first). It must exist.
	Before int64
	Limit  int // 0 means 50
}

// ErrBadCursor is returned when a pagination cursor names no row.
var ErrBadCursor = errors.New("the cursor names no row")

// Conversations lists live (not merged) conversations, the most recent
// activity first, at most q.Limit of them.
func (s *Store) Conversations(ctx context.Context, q ConversationQuery) ([]Conversation, error) {
	where, args := []string{"c.merged_into IS NULL"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.OnlyBrands != nil {
		add("c.brand_id = ANY($%d)", q.OnlyBrands)
	}
	if q.BrandID != 0 {
		add("c.brand_id = $%d", q.BrandID)
	}
	if q.ContactID != 0 {
		add("c.contact_id = $%d", q.ContactID)
	}
	if q.Status != "" {
		add("c.status = $%d", q.Status)
	}
	if q.Before != 0 {
		var at time.Time
		err := s.Pool.QueryRow(ctx, `SELECT last_message_at FROM conversations WHERE id = $1`, q.Before).Scan(&at)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("store: conversations before %d: %w", q.Before, ErrBadCursor)
		}
		if err != nil {
			return nil, fmt.Errorf("store: conversations before %d: %w", q.Before, err)
		}
		args = append(args, at, q.Before)
		where = append(where, fmt.Sprintf("(c.last_message_at, c.id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	args = append(args, q.Limit)
	rows, err := s.Pool.Query(ctx, `SELECT `+conversationCols+conversationFrom+` WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY c.last_message_at DESC, c.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: conversations: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conversation, error) { return scanConversation(r) })
	if err != nil {
		return nil, fmt.Errorf("store: conversations: %w", err)
	}
	return cs, nil
}
