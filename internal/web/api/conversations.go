package api

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// conversationStatuses are the values ?status= accepts.
var conversationStatuses = []string{"open", "snoozed", "closed"}

type conversationJSON struct {
	ID            int64     `json:"id"`
	Brand         string    `json:"brand"`
	ContactID     int64     `json:"contact_id"`
	Status        string    `json:"status"`
	Assignee      *string   `json:"assignee"`
	LastMessageAt time.Time `json:"last_message_at"`
	// Priority is "high" when an unhappy answer to a question put the
	// conversation first; Reason says why (low_rating, negative_answer).
	Priority string `json:"priority"`
	Reason   string `json:"reason,omitempty"`
	// NeedsAttention says why a person should read it ("" nothing).
	NeedsAttention string `json:"needs_attention,omitempty"`
}

type messageJSON struct {
	ID        int64         `json:"id"`
	Direction string        `json:"direction"`
	Body      string        `json:"body"`
	Media     []store.Media `json:"media"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Status    string        `json:"status"`
	TwilioSID *string       `json:"twilio_sid"`
	CreatedAt time.Time     `json:"created_at"`
}

// listConversations: GET /api/v1/conversations — live conversations, the most
// recent activity first, filtered by brand, contact (phone or loyalty ID) and
// status, a page at a time (?limit=, ?before=<id>).
func (h *Handlers) listConversations(c echo.Context) error {
	ctx := c.Request().Context()
	var q store.ConversationQuery
	b, bad, err := h.brandParam(c, false)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	if b.ID != 0 {
		if bad := brandAllowed(c, b.ID, b.Slug); bad != nil {
			return apierr.Write(c, bad)
		}
	}
	q.BrandID = b.ID
	q.OnlyBrands = onlyBrands(c)
	if q.Status = strings.TrimSpace(c.QueryParam("status")); q.Status != "" && !slices.Contains(conversationStatuses, q.Status) {
		return apierr.Write(c, apierr.Field("invalid_field", "status", "status must be one of %s, not %q", strings.Join(conversationStatuses, ", "), q.Status))
	}
	if q.Before, bad = idParam(c, "before", false); bad != nil {
		return apierr.Write(c, bad)
	}
	limit, bad := limitParam(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	q.Limit = limit + 1
	phone, loyalty := c.QueryParam("phone"), c.QueryParam("loyalty_id")
	if phone != "" && loyalty != "" {
		return apierr.Write(c, apierr.Field("invalid_field", "loyalty_id", "give phone or loyalty_id, not both"))
	}
	if phone != "" || loyalty != "" {
		cs, err := h.contacts.Find(ctx, phone, loyalty)
		if err != nil {
			return h.fail(c, err)
		}
		if len(cs) == 0 {
			return page(c, []conversationJSON{}, limit, "before", func(conversationJSON) int64 { return 0 })
		}
		q.ContactID = cs[0].ID
	}
	convs, err := h.st.Conversations(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		return apierr.Write(c, apierr.Field("invalid_field", "before", "before=%d names no conversation", q.Before))
	}
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]conversationJSON, len(convs))
	for i, cv := range convs {
		out[i] = conversationJSON{ID: cv.ID, Brand: cv.BrandSlug, ContactID: cv.ContactID, Status: cv.Status, LastMessageAt: cv.LastMessageAt,
			Priority: cv.Priority, Reason: cv.PriorityReason, NeedsAttention: cv.NeedsAttention}
		if cv.AssigneeEmail != "" {
			email := cv.AssigneeEmail
			out[i].Assignee = &email
		}
	}
	return page(c, out, limit, "before", func(cv conversationJSON) int64 { return cv.ID })
}

// conversationMessages: GET /api/v1/conversations/{id}/messages — the thread
// oldest first, a page at a time (?after=<message id>, ?limit=). The id of a
// conversation absorbed by a merge shows the conversation it became.
func (h *Handlers) conversationMessages(c echo.Context) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	after, bad := idParam(c, "after", false)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	limit, bad := limitParam(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	ctx := c.Request().Context()
	conv, err := h.st.LiveConversation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.Write(c, apierr.Field("conversation_not_found", "id", "no conversation has the id %d", id))
	}
	if err != nil {
		return h.internal(c, err)
	}
	if bad := brandAllowed(c, conv.BrandID, conv.BrandSlug); bad != nil {
		return apierr.Write(c, bad)
	}
	msgs, err := h.st.ConversationMessages(ctx, conv.ID, after, limit+1)
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = messageJSON{ID: m.ID, Direction: m.Direction, Body: m.Body, Media: m.Media, From: m.From, To: m.To,
			Status: m.Status, CreatedAt: m.CreatedAt}
		if out[i].Media == nil {
			out[i].Media = []store.Media{}
		}
		if m.TwilioSID != "" {
			sid := m.TwilioSID
			out[i].TwilioSID = &sid
		}
	}
	return page(c, out, limit, "after", func(m messageJSON) int64 { return m.ID })
}
