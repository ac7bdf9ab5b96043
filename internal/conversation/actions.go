package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/parleyhq/parley/internal/routing"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/question"
	"github.com/parleyhq/parley/internal/store"
)

// MaxReply is the longest reply an agent may send (10 segments of GSM-7).
const MaxReply = 1600

// Reply queues an agent's text to the customer, from the brand's number, on
// the replies queue when the conversation is live. An opted-out customer
// cannot be texted: *OptedOutError says since when and how.
func (s *Service) Reply(ctx context.Context, u store.User, id int64, body string) (outbound.Queued, error) {
	return s.ReplyAsking(ctx, u, id, body, "")
}

// ReplyAsking is Reply whose text asks a question of kind ask (rating 1–5,
// nps, yes_no or free_text; "" asks nothing): the customer's next text is
// read as the answer, and an unhappy one puts the conversation first.
func (s *Service) ReplyAsking(ctx context.Context, u store.User, id int64, body, ask string) (outbound.Queued, error) {
	var qs *store.Question
	if ask = strings.TrimSpace(ask); ask != "" {
		q, err := question.Input{Kind: ask}.Check(0)
		if err != nil {
			_, msg := question.FieldOf(err)
			return outbound.Queued{}, &FieldError{"ask", msg}
		}
		qs = &q
	}
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return outbound.Queued{}, err
	}
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		return outbound.Queued{}, &FieldError{"body", "the reply is empty"}
	case utf8.RuneCountInString(body) > MaxReply:
		return outbound.Queued{}, &FieldError{"body", fmt.Sprintf("the reply is %d characters; at most %d", utf8.RuneCountInString(body), MaxReply)}
	}
	out, err := s.optedOut(ctx, c.BrandID, c.LastPhone)
	if err != nil {
		return outbound.Queued{}, err
	}
	if out != nil {
		return outbound.Queued{}, out
	}
	q, err := s.outbox.Send(ctx, outbound.SendRequest{
		Brand: c.BrandSlug, To: c.LastPhone, Body: body, Purpose: consent.Conversational,
		Origin: "agent", OriginRef: fmt.Sprint(u.ID), Question: qs,
	})
	var fe *outbound.FieldError
	if errors.As(err, &fe) {
		return q, &FieldError{Field: fe.Field, Msg: fe.Msg}
	}
	return q, err
}

// MaxNote is the longest internal note.
const MaxNote = 4000

// AddNote writes an internal note (never sent to the customer).
func (s *Service) AddNote(ctx context.Context, u store.User, id int64, body string) (store.Note, error) {
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return store.Note{}, err
	}
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return store.Note{}, &FieldError{"body", "the note is empty"}
	case utf8.RuneCountInString(body) > MaxNote:
		return store.Note{}, &FieldError{"body", fmt.Sprintf("the note is longer than %d characters", MaxNote)}
	}
	return s.st.AddNote(ctx, c.ID, u.ID, body)
}

// Assign gives the conversation to an agent who may see its brand, or to
// nobody (assigneeID 0).
func (s *Service) Assign(ctx context.Context, u store.User, id, assigneeID int64) error {
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return err
	}
	detail := "unassigned"
	if assigneeID != 0 {
		agents, err := s.st.Agents(ctx, c.BrandID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(agents, func(a store.Agent) bool { return a.ID == assigneeID })
		if i < 0 {
			return &FieldError{"assignee_id", "not an enabled agent of this conversation's brand"}
		}
		detail = "to " + agents[i].Email
	}
	if assigneeID == c.AssigneeID {
		return nil
	}
	if err := s.wrap(s.st.Assign(ctx, c.ID, assigneeID, u.ID, detail)); err != nil {
		return err
	}
	s.Hooks.ConversationAssigned(ctx, c, assigneeID, u.ID)
	return nil
}

// Close marks the conversation done.
func (s *Service) Close(ctx context.Context, u store.User, id int64) error {
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return err
	}
	if err := s.wrap(s.st.CloseConversation(ctx, c.ID, u.ID)); err != nil {
		return err
	}
	s.Hooks.ConversationClosed(ctx, c, u.ID)
	// The after-conversation survey, when the brand asks for it: a failure
	// to send it does not undo the close.
	if _, err := s.survey(ctx, c, true); err != nil && !errors.Is(err, ErrNoSurvey) {
		return err
	}
	return nil
}

// ErrNoSurvey is a survey that is not sent: the brand has none, or (when
// automatic) the conversation had one within routing.CSATEvery, or the
// customer opted out.
var ErrNoSurvey = errors.New("no survey sent")

// SendSurvey sends the brand's after-conversation survey now, by hand
// (the 7-day limit is for automatic surveys).
func (s *Service) SendSurvey(ctx context.Context, u store.User, id int64) (outbound.Queued, error) {
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return outbound.Queued{}, err
	}
	return s.survey(ctx, c, false)
}

func (s *Service) survey(ctx context.Context, c store.Conversation, auto bool) (outbound.Queued, error) {
	raw, err := s.st.BrandSettings(ctx, c.BrandID)
	if err != nil {
		return outbound.Queued{}, err
	}
	var doc struct {
		CSAT routing.CSATDoc `json:"csat"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &doc); err != nil {
			return outbound.Queued{}, err
		}
	}
	if !doc.CSAT.Enabled {
		return outbound.Queued{}, fmt.Errorf("%w: the brand has no after-conversation survey (settings: csat)", ErrNoSurvey)
	}
	if auto {
		done, err := s.st.SurveyedSince(ctx, c.ID, s.now().Add(-routing.CSATEvery))
		if err != nil || done {
			return outbound.Queued{}, errors.Join(err, ErrNoSurvey)
		}
	}
	if out, err := s.optedOut(ctx, c.BrandID, c.LastPhone); err != nil || out != nil {
		if out != nil {
			return outbound.Queued{}, errors.Join(out, ErrNoSurvey)
		}
		return outbound.Queued{}, err
	}
	text, kind, scale := doc.CSAT.Survey()
	q, err := question.Input{Kind: kind, Scale: scale, FollowUps: doc.CSAT.FollowUps}.Check(0)
	if err != nil {
		return outbound.Queued{}, err
	}
	return s.outbox.Send(ctx, outbound.SendRequest{Brand: c.BrandSlug, To: c.LastPhone, Body: text, Purpose: consent.Conversational,
		Origin: "csat", OriginRef: strconv.FormatInt(c.ID, 10), Question: &q})
}

// Reopen brings a closed or snoozed conversation back to the open list.
func (s *Service) Reopen(ctx context.Context, u store.User, id int64) error {
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return err
	}
	return s.wrap(s.st.ReopenConversation(ctx, c.ID, u.ID))
}

// MaxSnooze is the furthest a conversation can be snoozed.
const MaxSnooze = 90 * 24 * time.Hour

// Snooze hides the conversation until until (or the customer's next text).
func (s *Service) Snooze(ctx context.Context, u store.User, id int64, until time.Time) error {
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return err
	}
	now := s.now()
	switch {
	case until.IsZero():
		return &FieldError{"until", "required: when the conversation should come back"}
	case !until.After(now):
		return &FieldError{"until", "must be in the future"}
	case until.Sub(now) > MaxSnooze:
		return &FieldError{"until", "at most 90 days ahead"}
	}
	return s.wrap(s.st.SnoozeConversation(ctx, c.ID, u.ID, until, "until "+until.UTC().Format("2006-01-02 15:04 UTC")))
}

var labelRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} _\-/.]{0,39}$`)

// SetLabels replaces the labels with the comma-separated list labels.
func (s *Service) SetLabels(ctx context.Context, u store.User, id int64, labels string) error {
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return err
	}
	var out []string
	for _, l := range strings.Split(labels, ",") {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" {
			continue
		}
		if !labelRE.MatchString(l) {
			return &FieldError{"labels", fmt.Sprintf("%q: a label is up to 40 letters, digits, spaces, - _ / or .", l)}
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if len(out) > 20 {
		return &FieldError{"labels", "at most 20 labels"}
	}
	slices.Sort(out)
	return s.wrap(s.st.SetLabels(ctx, c.ID, u.ID, out, strings.Join(out, ", ")))
}

// MergePreview is what linking a customer to a loyalty member will merge,
// shown for confirmation before anything changes.
type MergePreview struct {
	LoyaltyID                    string
	CustomerName, MemberName     string
	CustomerPhones, MemberPhones []string
	CustomerConversations        int
	MemberConversations          int
}

// LinkLoyalty makes the customer of conversation id loyalty member
// loyaltyID. A loyalty ID no one has is simply given to the customer. An
// existing member is merged with the customer — for good, across brands —
// so it is allowed only to a member already known in one of the user's
// brands (one of their conversations is there), and only once confirmed:
// without confirm, nothing changes and the preview says what would be
// merged. The merge is recorded in the history with who did it.
func (s *Service) LinkLoyalty(ctx context.Context, u store.User, id int64, loyaltyID string, confirm bool) (int64, *MergePreview, error) {
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return 0, nil, err
	}
	loyaltyID = strings.TrimSpace(loyaltyID)
	if loyaltyID == "" {
		return 0, nil, &FieldError{"loyalty_id", "required"}
	}
	ct, err := s.st.ContactByID(ctx, c.ContactID)
	if err != nil {
		return 0, nil, err
	}
	if ct.LoyaltyID != "" && ct.LoyaltyID != loyaltyID {
		return 0, nil, &FieldError{"loyalty_id", fmt.Sprintf("this customer is already loyalty member %s", ct.LoyaltyID)}
	}
	members, err := s.contacts.Find(ctx, "", loyaltyID)
	if err != nil {
		return 0, nil, err
	}
	merging := len(members) > 0 && members[0].ID != ct.ID
	if merging {
		m := members[0]
		brands, err := s.Brands(ctx, u)
		if err != nil {
			return 0, nil, err
		}
		theirs, err := s.st.ContactConversations(ctx, m.ID, brands)
		if err != nil {
			return 0, nil, err
		}
		if len(theirs) == 0 {
			// Said the same whether the member exists elsewhere or not at all.
			return 0, nil, &FieldError{"loyalty_id", fmt.Sprintf("no loyalty member %s is known in your brands", loyaltyID)}
		}
		if !confirm {
			mine, err := s.st.ContactConversations(ctx, ct.ID, nil)
			if err != nil {
				return 0, nil, err
			}
			all, err := s.st.ContactConversations(ctx, m.ID, nil)
			if err != nil {
				return 0, nil, err
			}
			return 0, &MergePreview{LoyaltyID: loyaltyID, CustomerName: ct.Name, MemberName: m.Name,
				CustomerPhones: ct.Phones, MemberPhones: m.Phones,
				CustomerConversations: len(mine), MemberConversations: len(all)}, nil
		}
	}
	_, err = s.contacts.Upsert(ctx, contact.Upsert{LoyaltyID: loyaltyID, Phones: ct.Phones, MadeBy: u.ID})
	var fe *contact.FieldError
	if errors.As(err, &fe) {
		return 0, nil, &FieldError{"loyalty_id", fe.Msg}
	}
	if err != nil {
		return 0, nil, err
	}
	live, err := s.st.LiveConversation(ctx, c.ID)
	if err != nil {
		return 0, nil, err
	}
	detail := "to loyalty member " + loyaltyID
	if merging {
		detail = fmt.Sprintf("to loyalty member %s, merging phones %s into the member", loyaltyID, strings.Join(ct.Phones, ", "))
	}
	if err := s.st.RecordActivity(ctx, live.ID, u.ID, "linked", detail); err != nil {
		return live.ID, nil, err
	}
	return live.ID, nil, nil
}

func (s *Service) wrap(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrConversationMerged):
		return ErrMerged
	}
	return err
}
