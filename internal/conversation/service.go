// Package conversation is what agents do to a conversation from the console:
// read it with the customer beside it, reply, write notes, assign, close,
// snooze, label, and link the customer to a loyalty ID. Every method checks
// that the user may see the conversation's brand.
package conversation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/store"
)

// Errors the console maps to answers.
var (
	// ErrForbidden: the conversation belongs to a brand the user may not see.
	ErrForbidden = errors.New("this conversation belongs to a brand you do not have access to")
	// ErrNotFound: no such conversation.
	ErrNotFound = errors.New("no such conversation")
	// ErrMerged: the conversation was merged into another one (see Conversation.MergedInto).
	ErrMerged = errors.New("the conversation was merged into another one")
)

// FieldError is bad input: which field and what is wrong with it.
type FieldError struct {
	Field, Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// OptedOutError refuses a reply to a customer who opted out, saying when and how.
type OptedOutError struct {
	Since  time.Time
	Source string // keyword, carrier, agent, api…
	Phone  string
}

func (e *OptedOutError) Error() string {
	return fmt.Sprintf("the customer opted out (%s, %s): they can text START to opt back in", e.Source, e.Since.Format(time.RFC3339))
}

// Service is the conversation actions.
type Service struct {
	st       *store.Store
	outbox   *outbound.Outbox
	ledger   *consent.Ledger
	contacts *contact.Service
	zones    contact.Zones
	now      func() time.Time
	// Hooks emits conversation.closed and conversation.assigned to the
	// brand's webhooks (nil: none).
	Hooks *hooks.Service
}

// New returns the service.
func New(st *store.Store, outbox *outbound.Outbox, contacts *contact.Service) *Service {
	return &Service{st: st, outbox: outbox, ledger: consent.NewLedger(st), contacts: contacts, now: time.Now}
}

// Brands returns the brands user may see (nil: all).
func (s *Service) Brands(ctx context.Context, u store.User) ([]int64, error) {
	if u.Role == "admin" {
		return nil, nil
	}
	return s.st.UserBrandIDs(ctx, u.ID)
}

// VisibleBrands lists the brands the user may see.
func (s *Service) VisibleBrands(ctx context.Context, u store.User) ([]store.Brand, error) {
	ids, err := s.Brands(ctx, u)
	if err != nil {
		return nil, err
	}
	all, err := s.st.Brands(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, b := range all {
		if MaySee(ids, b.ID) {
			out = append(out, b)
		}
	}
	return out, nil
}

// MaySee reports whether a user limited to brands (nil: all) may see brandID.
func MaySee(brands []int64, brandID int64) bool {
	return brands == nil || slices.Contains(brands, brandID)
}

// Get returns a live conversation the user may see.
func (s *Service) Get(ctx context.Context, u store.User, id int64) (store.Conversation, error) {
	c, err := s.st.ConversationByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	brands, err := s.Brands(ctx, u)
	if err != nil {
		return c, err
	}
	if !MaySee(brands, c.BrandID) {
		return c, ErrForbidden
	}
	if c.MergedInto != 0 {
		return c, ErrMerged
	}
	return c, nil
}

// Survivor returns the live conversation a merged one was folded into, if
// the user may see it.
func (s *Service) Survivor(ctx context.Context, u store.User, id int64) (int64, error) {
	c, err := s.st.LiveConversation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	if _, err := s.Get(ctx, u, c.ID); err != nil {
		return 0, err
	}
	return c.ID, nil
}

// InboxFilter is what the inbox page asks for.
type InboxFilter struct {
	Assignee, Status, Brand, Label, Search, After string
	Limit                                         int
}

// Inbox lists the conversations the user may see, filtered.
func (s *Service) Inbox(ctx context.Context, u store.User, f InboxFilter) (store.InboxPage, error) {
	brands, err := s.Brands(ctx, u)
	if err != nil {
		return store.InboxPage{}, err
	}
	q := store.InboxQuery{UserID: u.ID, BrandIDs: brands, Label: strings.TrimSpace(f.Label), Search: f.Search, After: f.After, Limit: f.Limit}
	switch f.Assignee {
	case "mine", "unassigned":
		q.Assignee = f.Assignee
	case "", "all":
	default:
		return store.InboxPage{}, &FieldError{"assignee", fmt.Sprintf("%q is not one of mine, unassigned, all", f.Assignee)}
	}
	switch f.Status {
	case "open", "snoozed", "closed":
		q.Status = f.Status
	case "":
		q.Status = "open"
	case "any":
	default:
		return store.InboxPage{}, &FieldError{"status", fmt.Sprintf("%q is not one of open, snoozed, closed, any", f.Status)}
	}
	if f.Brand != "" {
		b, err := s.st.BrandBySlug(ctx, f.Brand)
		if errors.Is(err, store.ErrNotFound) {
			return store.InboxPage{}, &FieldError{"brand", fmt.Sprintf("no brand %q", f.Brand)}
		}
		if err != nil {
			return store.InboxPage{}, err
		}
		if !MaySee(brands, b.ID) {
			return store.InboxPage{}, ErrForbidden
		}
		q.BrandID = b.ID
	}
	if utf8.RuneCountInString(f.Search) > 200 {
		return store.InboxPage{}, &FieldError{"q", "the search is longer than 200 characters"}
	}
	page, err := s.st.Inbox(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		return page, &FieldError{"after", "not a cursor this list handed out"}
	}
	return page, err
}

// Row is one conversation as an inbox row, for a live refresh.
func (s *Service) Row(ctx context.Context, u store.User, id int64) (store.InboxRow, error) {
	brands, err := s.Brands(ctx, u)
	if err != nil {
		return store.InboxRow{}, err
	}
	r, err := s.st.InboxRowByID(ctx, u.ID, id, brands)
	if errors.Is(err, store.ErrNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// IsPowerUser says whether a contact's attributes make them a power user: a
// high loyalty tier, or flagged by the brand.
func IsPowerUser(attrs map[string]any) bool {
	if v, ok := attrs["power_user"].(bool); ok && v {
		return true
	}
	tier, _ := attrs["tier"].(string)
	switch strings.ToLower(strings.TrimSpace(tier)) {
	case "gold", "platinum", "diamond", "vip", "elite", "high", "black":
		return true
	}
	return false
}
