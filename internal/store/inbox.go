package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// InboxQuery is one agent's view of the conversation list. Zero fields do
// not filter.
type InboxQuery struct {
	UserID   int64   // whose "mine" and unread markers
	BrandIDs []int64 // the brands the user may see; nil means all
	BrandID  int64
	Assignee string // "mine", "unassigned" or "" (all)
	Status   string // "open" (snoozes that ended count as open), "snoozed", "closed" or "" (any)
	Label    string
	Search   string // phone digits, name, loyalty ID or message text
	After    string // keyset cursor from InboxPage.Next
	Limit    int    // 0 means 50
	ID       int64  // only this conversation
}

// InboxRow is one line of the inbox.
type InboxRow struct {
	Conversation
	ContactName   string
	LoyaltyID     string
	Attributes    map[string]any
	LastBody      string
	LastDirection string
	LastHasMedia  bool
	WaitingSince  *time.Time
	SnoozedUntil  *time.Time
	Labels        []string
	Unread        bool
	SLAMinutes    int
	AnsweredAt    *time.Time // a person answered or closed it before (next-response target)
}

// InboxPage is a page of rows and the cursor of the next page ("" at the end).
type InboxPage struct {
	Rows []InboxRow
	Next string
}

// The inbox order: customers waiting for a person first, longest wait first;
// then the others, most recently answered or closed first (see migration
// 00005 for why not by latest activity). One numeric key (epoch seconds
// with microseconds, exact in numeric) makes the keyset a simple (key, id).
const inboxKey = `inbox_key(c.waiting_since, c.answered_at, c.created_at)` // migration 00005, indexed

// errBadInboxCursor is returned for a cursor that is not one of ours.
var errBadInboxCursor = fmt.Errorf("store: inbox cursor: %w", ErrBadCursor)

// Inbox lists conversations for the console.
func (s *Store) Inbox(ctx context.Context, q InboxQuery) (InboxPage, error) {
	where, args := []string{"c.merged_into IS NULL"}, []any{q.UserID}
	add := func(cond string, v ...any) {
		n := make([]any, len(v))
		for i := range v {
			args = append(args, v[i])
			n[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, n...))
	}
	if q.BrandIDs != nil {
		add("c.brand_id = ANY($%d)", q.BrandIDs)
	}
	if q.BrandID != 0 {
		add("c.brand_id = $%d", q.BrandID)
	}
	if q.ID != 0 {
		add("c.id = $%d", q.ID)
	}
	switch q.Assignee {
	case "mine":
		where = append(where, "c.assignee_id = $1")
	case "unassigned":
		where = append(where, "c.assignee_id IS NULL")
	}
	switch q.Status {
	case "open":
		where = append(where, "(c.status = 'open' OR (c.status = 'snoozed' AND c.snoozed_until <= now()))")
	case "snoozed":
		where = append(where, "c.status = 'snoozed' AND (c.snoozed_until IS NULL OR c.snoozed_until > now())")
	case "closed":
		where = append(where, "c.status = 'closed'")
	}
	if q.Label != "" {
		add("$%d = ANY(c.labels)", q.Label)
	}
	if q.After != "" {
		key, id, ok := strings.Cut(q.After, "_")
		var cid int64
		if _, err := fmt.Sscan(id, &cid); !ok || err != nil || !numericText(key) {
			return InboxPage{}, errBadInboxCursor
		}
		add("("+inboxKey+", c.id) > ($%d::numeric, $%d)", key, cid)
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if search := strings.TrimSpace(q.Search); search != "" {
		ids, err := s.inboxSearch(ctx, search, strings.Join(where, " AND "), args, q.Limit+1)
		if err != nil {
			return InboxPage{}, err
		}
		add("c.id = ANY($%d)", ids)
	}
	args = append(args, q.Limit+1)
	limit := fmt.Sprintf("$%d", len(args))
	rows, err := s.Pool.Query(ctx, `
		SELECT `+conversationCols+`, ct.name, coalesce(ct.loyalty_id, ''), ct.attributes,
			coalesce(lm.body, ''), coalesce(lm.direction, ''), coalesce(jsonb_array_length(lm.media) > 0, false),
			c.waiting_since, c.snoozed_until, c.labels,
			c.last_inbound_at > coalesce(r.read_at, '-infinity'), b.sla_minutes, c.answered_at, `+inboxKey+`::text
		`+conversationFrom+`
		JOIN contacts ct ON ct.id = c.contact_id
		LEFT JOIN conversation_reads r ON r.user_id = $1 AND r.conversation_id = c.id
		LEFT JOIN LATERAL (SELECT m.body, m.direction, m.media FROM messages m
			WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) lm ON true
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY `+inboxKey+`, c.id
		LIMIT `+limit, args...)
	if err != nil {
		return InboxPage{}, fmt.Errorf("store: inbox: %w", err)
	}
	var page InboxPage
	var keys []string
	for rows.Next() {
		var r InboxRow
		var attrs []byte
		var unread *bool
		var key string
		c := &r.Conversation
		if err := rows.Scan(&c.ID, &c.BrandID, &c.BrandSlug, &c.ContactID, &c.Status, &c.AssigneeID, &c.AssigneeEmail,
			&c.LastPhone, &c.LastMessageAt, &c.NeedsAttention, &c.Priority, &c.PriorityReason, &c.MergedInto, &c.CreatedAt,
			&r.ContactName, &r.LoyaltyID, &attrs, &r.LastBody, &r.LastDirection, &r.LastHasMedia,
			&r.WaitingSince, &r.SnoozedUntil, &r.Labels, &unread, &r.SLAMinutes, &r.AnsweredAt, &key); err != nil {
			rows.Close()
			return InboxPage{}, fmt.Errorf("store: inbox: %w", err)
		}
		if err := json.Unmarshal(attrs, &r.Attributes); err != nil {
			rows.Close()
			return InboxPage{}, fmt.Errorf("store: inbox: attributes of contact %d: %w", c.ContactID, err)
		}
		r.Unread = unread != nil && *unread
		page.Rows = append(page.Rows, r)
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return InboxPage{}, fmt.Errorf("store: inbox: %w", err)
	}
	if len(page.Rows) > q.Limit {
		page.Rows = page.Rows[:q.Limit]
		last := page.Rows[q.Limit-1]
		page.Next = keys[q.Limit-1] + "_" + fmt.Sprint(last.ID)
	}
	return page, nil
}

// InboxRowByID is one conversation as the inbox shows it to userID, or
// ErrNotFound (also when brandIDs, if not nil, excludes it). The console uses
// it to refresh one row live.
func (s *Store) InboxRowByID(ctx context.Context, userID, id int64, brandIDs []int64) (InboxRow, error) {
	page, err := s.Inbox(ctx, InboxQuery{UserID: userID, BrandIDs: brandIDs, ID: id, Limit: 1})
	if err != nil {
		return InboxRow{}, err
	}
	if len(page.Rows) == 0 {
		return InboxRow{}, fmt.Errorf("store: inbox row %d: %w", id, ErrNotFound)
	}
	return page.Rows[0], nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func numericText(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	dot := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot:
			dot = true
		case r == '-' && i == 0:
		default:
			return false
		}
	}
	return true
}
