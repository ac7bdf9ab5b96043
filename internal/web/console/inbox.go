package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/routing"
	"github.com/parleyhq/parley/internal/store"
)

// inboxRow is one line of the list as the page shows it.
type inboxRow struct {
	ID           int64
	Customer     string
	Phone        string
	Brand        string
	Preview      string
	Inbound      bool
	Waiting      string // "12 min", "" when nobody waits
	WaitingSince *time.Time
	Assignee     string
	Status       string
	SnoozedUntil *time.Time
	Labels       []string
	Unread       bool
	Power        bool // a power user: flagged, and first in the queue
	Priority     int  // from the brand's tier ranks and the contact's influence
	SLABreached  bool
	DueAt        *time.Time // when the waiting customer must have an answer by the brand's target
	Attention    string
	// Urgent is why an unhappy answer put the conversation first ("" none).
	Urgent string
	LastAt time.Time
}

// inbox: GET / — the conversations the user may see, waiting customers first
// (longest wait first), filtered by assignee, status, brand, label and a search.
func (h *Handlers) inbox(c echo.Context) error {
	ctx := c.Request().Context()
	ss := session(c)
	f := conversation.InboxFilter{
		Assignee: c.QueryParam("assignee"), Status: c.QueryParam("status"), Brand: c.QueryParam("brand"),
		Label: c.QueryParam("label"), Search: c.QueryParam("q"), After: c.QueryParam("after"),
	}
	status := http.StatusOK
	var problem string
	page, err := h.Conversations.Inbox(ctx, ss.User, f)
	var fe *conversation.FieldError
	switch {
	case errors.As(err, &fe):
		status, problem = http.StatusBadRequest, fe.Error()
	case errors.Is(err, conversation.ErrForbidden):
		status, problem = http.StatusForbidden, "you do not have access to that brand"
	case err != nil:
		return err
	}
	now := time.Now()
	targets := h.targets(ctx)
	rows := make([]inboxRow, len(page.Rows))
	for i, r := range page.Rows {
		rows[i] = newInboxRow(r, now, targets)
	}
	brands, err := h.Conversations.VisibleBrands(ctx, ss.User)
	if err != nil {
		return err
	}
	var next string
	if page.Next != "" {
		q := c.QueryParams()
		q.Set("after", page.Next)
		next = "/?" + q.Encode()
	}
	if f.Status == "" {
		f.Status = "open"
	}
	if f.Assignee == "" {
		f.Assignee = "all"
	}
	return h.render(c, status, "inbox", map[string]any{
		"Live": "inbox", "Rows": rows, "Filter": f, "Brands": brands, "Next": next, "Problem": problem,
		"Paged": f.After != "", "Self": selfURL(c.QueryParams()),
	})
}

// targets are the brands' response targets and hours, by brand id; a brand
// missing (settings not loadable) falls back to its first-response minutes.
type targets map[int64]routing.Brand

func (h *Handlers) targets(ctx context.Context) targets {
	if h.Automation == nil {
		return nil
	}
	m, err := h.Automation.Brands(ctx)
	if err != nil {
		h.Log.Warn("console: brand settings not loaded; response targets in wall-clock minutes", "err", err)
	}
	return m
}

// due is when the customer of r must have had an answer, if waiting.
func (t targets) due(r store.InboxRow) (time.Time, bool) {
	if r.WaitingSince == nil {
		return time.Time{}, false
	}
	b, ok := t[r.BrandID]
	if !ok {
		b.Targets = routing.Targets{FirstResponse: time.Duration(r.SLAMinutes) * time.Minute}
	}
	return routing.Due(b.Targets, b.Hours, *r.WaitingSince, r.AnsweredAt != nil)
}

func newInboxRow(r store.InboxRow, now time.Time, t targets) inboxRow {
	row := inboxRow{
		ID: r.ID, Customer: r.ContactName, Phone: r.LastPhone, Brand: r.BrandSlug, Inbound: r.LastDirection == "inbound",
		WaitingSince: r.WaitingSince, Assignee: r.AssigneeEmail, Status: r.Status, SnoozedUntil: r.SnoozedUntil,
		Labels: r.Labels, Unread: r.Unread,
		Attention: r.NeedsAttention, LastAt: r.LastMessageAt,
	}
	if r.Priority == "high" {
		row.Urgent = urgentReason(r.PriorityReason)
	}
	if b, ok := t[r.BrandID]; ok {
		row.Priority = routing.AttributePriority(b.Doc.TierPriority, r.Attributes)
	}
	row.Power = row.Priority > 0 || conversation.IsPowerUser(r.Attributes)
	if due, ok := t.due(r); ok {
		row.DueAt, row.SLABreached = &due, now.After(due)
	}
	if row.Customer == "" {
		row.Customer = r.LastPhone
	}
	if row.Status == "snoozed" && row.SnoozedUntil != nil && !row.SnoozedUntil.After(now) {
		row.Status, row.SnoozedUntil = "open", nil // the snooze ended: it is back in the open list
	}
	first, _, _ := strings.Cut(strings.TrimSpace(r.LastBody), "\n")
	if len([]rune(first)) > 90 {
		first = string([]rune(first)[:89]) + "…"
	}
	if first == "" && r.LastHasMedia {
		first = "[picture]"
	}
	row.Preview = first
	if r.WaitingSince != nil {
		row.Waiting = since(now.Sub(*r.WaitingSince))
	}
	return row
}

// since says a duration the way an inbox does: "45 s", "12 min", "3 h", "2 d".
func since(d time.Duration) string {
	switch {
	case d < time.Minute:
		return itoa(int(max(d, 0)/time.Second)) + " s"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + " h"
	default:
		return itoa(int(d/(24*time.Hour))) + " d"
	}
}

func selfURL(q url.Values) string {
	q = cloneValues(q)
	q.Del("after")
	q.Del("flash")
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// urgentReason says in words why a conversation was put first.
func urgentReason(reason string) string {
	switch reason {
	case "low_rating":
		return "high priority: low rating"
	case "negative_answer":
		return "high priority: unhappy answer"
	}
	return "high priority"
}
