package conversation

import (
	"context"
	"encoding/json"
	"github.com/parleyhq/parley/internal/routing"
	"sort"
	"time"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/store"
)

// HistoryLimit is how many of the newest messages the view shows.
const HistoryLimit = 300

// Entry is one line of the history: a message, a note or an activity.
type Entry struct {
	At       time.Time
	Message  *store.ThreadMessage
	Note     *store.Note
	Activity *store.Activity
	Campaign *CampaignTag // the message is a campaign's text, or a reply to one
}

// Canned is a canned response filled in for this customer.
type Canned struct {
	ID    int64
	Title string
	Text  string
}

// PhoneConsent is where one phone stands with the brand.
type PhoneConsent struct {
	Phone string
	consent.State
}

// View is everything the conversation page shows.
type View struct {
	Row           store.InboxRow
	Brand         store.Brand
	Contact       store.Contact
	History       []Entry
	OlderExist    bool
	Agents        []store.Agent
	Canned        []Canned
	Consent       []PhoneConsent
	Others        []store.Conversation
	LocalZone     string
	ZoneSource    string
	LocalTime     time.Time
	PowerUser     bool
	OptedOut      *OptedOutError // replying is impossible, and why
	Undeliverable bool
	// Answers are the customer's latest answers to the brand's questions.
	Answers []store.AnswerRow
	// Survey: the brand has an after-conversation survey to send by hand.
	Survey bool
}

// View assembles the conversation page and marks it read for the user.
func (s *Service) View(ctx context.Context, u store.User, id int64) (View, error) {
	var v View
	c, err := s.Get(ctx, u, id)
	if err != nil {
		return v, err
	}
	if v.Row, err = s.Row(ctx, u, c.ID); err != nil {
		return v, err
	}
	if v.Brand, err = s.st.BrandBySlug(ctx, c.BrandSlug); err != nil {
		return v, err
	}
	if v.Contact, err = s.st.ContactByID(ctx, c.ContactID); err != nil {
		return v, err
	}
	if v.Answers, err = s.st.ContactAnswers(ctx, c.ContactID, []int64{c.BrandID}, 0, 5); err != nil {
		return v, err
	}
	if raw, err := s.st.BrandSettings(ctx, c.BrandID); err == nil && len(raw) > 0 {
		var doc struct {
			CSAT routing.CSATDoc `json:"csat"`
		}
		v.Survey = json.Unmarshal(raw, &doc) == nil && doc.CSAT.Enabled
	}
	msgs, more, err := s.st.RecentMessages(ctx, c.ID, HistoryLimit)
	if err != nil {
		return v, err
	}
	v.OlderExist = more
	notes, err := s.st.Notes(ctx, c.ID)
	if err != nil {
		return v, err
	}
	acts, err := s.st.ConversationActivity(ctx, c.ID)
	if err != nil {
		return v, err
	}
	plain := make([]store.Message, len(msgs))
	for i := range msgs {
		plain[i] = msgs[i].Message
	}
	tags := CampaignOf(plain)
	var ids []int64
	for _, tg := range tags {
		ids = append(ids, tg.ID)
	}
	names, err := s.st.CampaignNames(ctx, ids)
	if err != nil {
		return v, err
	}
	for i := range msgs {
		e := Entry{At: msgs[i].CreatedAt, Message: &msgs[i]}
		if tg, ok := tags[msgs[i].ID]; ok {
			tg.Name = names[tg.ID]
			e.Campaign = &tg
		}
		v.History = append(v.History, e)
	}
	for i := range notes {
		v.History = append(v.History, Entry{At: notes[i].CreatedAt, Note: &notes[i]})
	}
	for i := range acts {
		v.History = append(v.History, Entry{At: acts[i].CreatedAt, Activity: &acts[i]})
	}
	sort.SliceStable(v.History, func(i, j int) bool { return v.History[i].At.Before(v.History[j].At) })
	if v.Agents, err = s.st.Agents(ctx, c.BrandID); err != nil {
		return v, err
	}
	canned, err := s.st.CannedResponses(ctx, c.BrandID)
	if err != nil {
		return v, err
	}
	data := personalize.NewData(v.Contact.Name, c.LastPhone, v.Contact.LoyaltyID, v.Contact.Attributes)
	for _, cr := range canned {
		text, err := personalize.Render(cr.Body, data)
		if err != nil {
			text = cr.Body // shown as written: the agent sees what is wrong before sending
		}
		v.Canned = append(v.Canned, Canned{ID: cr.ID, Title: cr.Title, Text: text})
	}
	for _, p := range v.Contact.Phones {
		st, err := s.ledger.State(ctx, c.BrandID, p)
		if err != nil {
			return v, err
		}
		v.Consent = append(v.Consent, PhoneConsent{Phone: p, State: st})
	}
	v.OptedOut, err = s.optedOut(ctx, c.BrandID, c.LastPhone)
	if err != nil {
		return v, err
	}
	brands, err := s.Brands(ctx, u)
	if err != nil {
		return v, err
	}
	others, err := s.st.ContactConversations(ctx, c.ContactID, brands)
	if err != nil {
		return v, err
	}
	for _, o := range others {
		if o.ID != c.ID {
			v.Others = append(v.Others, o)
		}
	}
	loc, src := s.zones.Resolve(v.Contact.Timezone, c.LastPhone, v.Brand.Timezone)
	v.LocalZone, v.ZoneSource, v.LocalTime = loc.String(), src, s.now().In(loc)
	v.PowerUser = IsPowerUser(v.Contact.Attributes)
	if err := s.st.MarkRead(ctx, u.ID, c.ID); err != nil {
		return v, err
	}
	return v, nil
}

// optedOut returns why phone cannot be texted for brandID, or nil.
func (s *Service) optedOut(ctx context.Context, brandID int64, phone string) (*OptedOutError, error) {
	evs, err := s.st.ConsentEvents(ctx, brandID, phone)
	if err != nil {
		return nil, err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Purpose != consent.Conversational {
			continue
		}
		if e.Status == consent.OptedOut {
			return &OptedOutError{Since: e.CreatedAt, Source: e.Source, Phone: phone}, nil
		}
		return nil, nil
	}
	return nil, nil
}
