package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

// Book holds every rule compiled, in memory: the event path judges
// thousands of events a second against it. It reloads when the stored
// rules change (checked at most every CheckEvery) or at once after a save
// in this process.
type Book struct {
	st         *store.Store
	CheckEvery time.Duration

	mu      sync.RWMutex
	byID    map[int64]*Rule
	byEvent map[int64]map[string][]*Rule // brand → event type → enabled rules
	version string
	checked time.Time
}

// NewBook returns an empty book over st; it loads on first use.
func NewBook(st *store.Store) *Book {
	return &Book{st: st, CheckEvery: 2 * time.Second}
}

// Invalidate makes the next use reload.
func (b *Book) Invalidate() {
	b.mu.Lock()
	b.checked, b.version = time.Time{}, ""
	b.mu.Unlock()
}

func (b *Book) refresh(ctx context.Context) error {
	b.mu.RLock()
	fresh := !b.checked.IsZero() && time.Since(b.checked) < b.CheckEvery
	b.mu.RUnlock()
	if fresh {
		return nil
	}
	v, err := b.st.TriggersVersion(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if v == b.version && b.byID != nil {
		b.checked = time.Now()
		return nil
	}
	ts, err := b.st.AllTriggers(ctx)
	if err != nil {
		return err
	}
	byID := make(map[int64]*Rule, len(ts))
	byEvent := map[int64]map[string][]*Rule{}
	for _, t := range ts {
		r, err := RuleOf(t)
		if err != nil {
			continue // saved rules compiled when saved; a later change of the language would be logged by Save
		}
		byID[t.ID] = &r
		if r.Enabled && r.EventType != "" {
			if byEvent[t.BrandID] == nil {
				byEvent[t.BrandID] = map[string][]*Rule{}
			}
			byEvent[t.BrandID][r.EventType] = append(byEvent[t.BrandID][r.EventType], &r)
		}
	}
	b.byID, b.byEvent, b.version, b.checked = byID, byEvent, v, time.Now()
	return nil
}

// For returns the enabled rules of a brand for an event type.
func (b *Book) For(ctx context.Context, brandID int64, eventType string) ([]*Rule, error) {
	if err := b.refresh(ctx); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.byEvent[brandID][eventType], nil
}

// Rule returns a rule by id (nil when deleted).
func (b *Book) Rule(ctx context.Context, id int64) (*Rule, error) {
	if err := b.refresh(ctx); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.byID[id], nil
}

// DateRules returns every enabled date rule.
func (b *Book) DateRules(ctx context.Context) ([]*Rule, error) {
	if err := b.refresh(ctx); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*Rule
	for _, r := range b.byID {
		if r.Enabled && r.Date != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// RuleOf compiles a stored rule.
func RuleOf(t store.Trigger) (Rule, error) {
	var s Spec
	if err := json.Unmarshal(t.Spec, &s); err != nil {
		return Rule{}, err
	}
	r, err := Compile(s)
	if err != nil {
		return r, err
	}
	r.ID, r.BrandID, r.QuestionID, r.Enabled = t.ID, t.BrandID, t.QuestionID, t.Enabled
	return r, nil
}

// Service saves rules, takes events in and answers dry runs.
type Service struct {
	st    *store.Store
	Book  *Book
	Now   func() time.Time
	Log   *slog.Logger
	zones contact.Zones
}

// NewService returns the service.
func NewService(st *store.Store, log *slog.Logger) *Service {
	return &Service{st: st, Book: NewBook(st), Now: time.Now, Log: log}
}

// ErrNotFound is a rule that does not exist.
var ErrNotFound = errors.New("trigger not found")

// Save checks spec and stores it as a new rule of brand b (id 0) or over
// rule id. Nothing is stored when spec is invalid (*FieldError).
func (s *Service) Save(ctx context.Context, b store.Brand, id int64, spec Spec) (store.Trigger, error) {
	spec.Brand = b.Slug
	r, err := Compile(spec)
	if err != nil {
		return store.Trigger{}, err
	}
	if len(strings.TrimSpace(spec.Name)) > 200 {
		return store.Trigger{}, bad("name", "at most 200 characters")
	}
	spec.Name = strings.TrimSpace(spec.Name)
	if spec.Question != nil {
		spec.Question.ID = 0 // the stored question's id is given on the way out
	}
	doc, err := json.Marshal(spec)
	if err != nil {
		return store.Trigger{}, err
	}
	t := store.Trigger{ID: id, BrandID: b.ID, Name: spec.Name, EventType: r.EventType, Spec: doc, Enabled: r.Enabled}
	if r.Date != nil {
		t.DateAttribute = r.Date.Attribute
	}
	if q := r.Question; q != nil {
		t.Question = &store.Question{Kind: string(q.Kind), Scale: q.Scale, Choices: q.Choices, Window: r.Window,
			FollowUps: r.FollowUps, NoIsNegative: r.NoIsNegative}
	}
	saved, err := s.st.SaveTrigger(ctx, t)
	if errors.Is(err, store.ErrNotFound) {
		return saved, ErrNotFound
	}
	if err != nil {
		return saved, err
	}
	s.Book.Invalidate()
	return saved, nil
}

// Delete retires a rule.
func (s *Service) Delete(ctx context.Context, id int64) error {
	err := s.st.DeleteTrigger(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	s.Book.Invalidate()
	return err
}

// SpecOf is a stored rule's document with its question's id.
func SpecOf(t store.Trigger) (Spec, error) {
	var s Spec
	if err := json.Unmarshal(t.Spec, &s); err != nil {
		return s, err
	}
	s.Brand = t.BrandSlug
	if s.Question != nil {
		s.Question.ID = t.QuestionID
	}
	on := t.Enabled
	s.Enabled = &on
	return s, nil
}

// EventInput is one event as a brand posts it.
type EventInput struct {
	// Brand, in a batch, must be the batch's brand (or absent).
	Brand         string          `json:"brand,omitempty"`
	Type          string          `json:"type"`
	LoyaltyID     string          `json:"loyalty_id"`
	Phone         string          `json:"phone"`
	ContactID     int64           `json:"contact_id"`
	OccurredAt    *time.Time      `json:"occurred_at"`
	Data          json.RawMessage `json:"data"`
	Key           string          `json:"idempotency_key"`
	CreateContact bool            `json:"create_contact"`
}

// EventResult is what became of one event: stored (or a repeat of a stored
// one) with the number of rules it matched, or an error (*FieldError, or
// ErrContactNotFound).
type EventResult struct {
	ID        int64
	Matched   int
	Duplicate bool
	Err       error
}

// ErrContactNotFound is an event about nobody Parley knows.
var ErrContactNotFound = errors.New("contact not found")

// MaxBatch is the most events one request may carry.
const MaxBatch = 1000

// MaxData bounds an event's data document.
const MaxData = 16 << 10

// Ingest stores a brand's events and schedules the texts their matching
// rules plan, in one transaction for the lot; each event's problem is its
// own and changes nothing.
func (s *Service) Ingest(ctx context.Context, b store.Brand, in []EventInput) ([]EventResult, error) {
	now := s.Now()
	res := make([]EventResult, len(in))
	who := make([]store.EventWho, 0, len(in))
	idx := make([]int, 0, len(in)) // who[i] is in[idx[i]]
	datas := make([]map[string]any, len(in))
	for i := range in {
		e := &in[i]
		d, err := s.check(e, b, now)
		if err != nil {
			res[i].Err = err
			continue
		}
		datas[i] = d
		who = append(who, store.EventWho{ContactID: e.ContactID, LoyaltyID: e.LoyaltyID, Phone: e.Phone})
		idx = append(idx, i)
	}
	people, err := s.st.EventPeople(ctx, who)
	if err != nil {
		return nil, err
	}
	byKey := map[string]int{}
	var evs []store.NewEvent
	var evIdx []int
	var repeats [][2]int // [repeat, first] within this batch
	for j, p := range people {
		i := idx[j]
		e := in[i]
		if p.ContactID == 0 {
			if !e.CreateContact || e.Phone == "" {
				res[i].Err = ErrContactNotFound
				continue
			}
			up, err := s.st.UpsertContact(ctx, store.ContactUpsert{Phones: []string{e.Phone}})
			if err != nil {
				return nil, err
			}
			p = store.EventPerson{ContactID: up.Contact.ID, Phone: e.Phone, Attributes: map[string]any{}}
		}
		if e.Key != "" {
			if first, ok := byKey[e.Key]; ok {
				repeats = append(repeats, [2]int{i, first})
				continue
			}
			byKey[e.Key] = i
		}
		ev := store.NewEvent{Type: e.Type, ContactID: p.ContactID, OccurredAt: *e.OccurredAt, Data: e.Data, Key: e.Key}
		runs, err := s.plan(ctx, b, e, datas[i], p, now)
		if err != nil {
			return nil, err
		}
		ev.Runs = runs
		evs = append(evs, ev)
		evIdx = append(evIdx, i)
	}
	stored, err := s.st.InsertEvents(ctx, b.ID, evs)
	if err != nil {
		return nil, err
	}
	for k, se := range stored {
		res[evIdx[k]] = EventResult{ID: se.ID, Matched: se.Matched, Duplicate: se.Duplicate}
	}
	for _, r := range repeats {
		res[r[0]] = res[r[1]]
		res[r[0]].Duplicate = true
	}
	return res, nil
}

// check validates one event in place (phone read in the brand's country,
// occurred_at defaulted to now) and returns its data decoded.
func (s *Service) check(e *EventInput, b store.Brand, now time.Time) (map[string]any, error) {
	e.Type = strings.TrimSpace(e.Type)
	if e.Type == "" {
		return nil, bad("type", "give the event's type, such as flight_completed")
	}
	if !eventTypeRE.MatchString(e.Type) {
		return nil, bad("type", "%q: 1–64 letters, digits, _ . : -", e.Type)
	}
	e.LoyaltyID, e.Phone = strings.TrimSpace(e.LoyaltyID), strings.TrimSpace(e.Phone)
	named := 0
	for _, set := range []bool{e.LoyaltyID != "", e.Phone != "", e.ContactID != 0} {
		if set {
			named++
		}
	}
	switch {
	case named == 0:
		return nil, bad("loyalty_id", "name the customer: one of loyalty_id, phone or contact_id")
	case named > 1:
		return nil, bad("loyalty_id", "give only one of loyalty_id, phone or contact_id")
	case e.ContactID < 0:
		return nil, bad("contact_id", "must be a positive id")
	case e.CreateContact && e.Phone == "":
		return nil, bad("create_contact", "creating a contact needs a phone")
	}
	if e.Phone != "" {
		p, err := contact.NormalizePhone(e.Phone, b.DefaultCountry)
		if err != nil {
			return nil, bad("phone", "%v", err)
		}
		e.Phone = p
	}
	if e.OccurredAt == nil {
		e.OccurredAt = &now
	} else if e.OccurredAt.After(now.Add(5 * time.Minute)) {
		return nil, bad("occurred_at", "%s is in the future", e.OccurredAt.UTC().Format(time.RFC3339))
	}
	if len(e.Key) > 255 || !utf8.ValidString(e.Key) {
		return nil, bad("idempotency_key", "at most 255 characters of UTF-8")
	}
	if len(e.Data) > MaxData {
		return nil, bad("data", "at most %d bytes", MaxData)
	}
	d := map[string]any{}
	if len(e.Data) > 0 && string(e.Data) != "null" {
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, bad("data", "must be a JSON object")
		}
	} else {
		e.Data = json.RawMessage(`{}`)
	}
	return d, nil
}

// plan judges the brand's rules for the event's type against one event.
func (s *Service) plan(ctx context.Context, b store.Brand, e EventInput, data map[string]any, p store.EventPerson, now time.Time) ([]store.NewRun, error) {
	rules, err := s.Book.For(ctx, b.ID, e.Type)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	env := conditionEnv(data, p.Attributes, p.Name, p.LoyaltyID, p.Phone, p.Timezone, e.Type)
	var runs []store.NewRun
	var loc *time.Location
	var m vm.VM
	for _, r := range rules {
		ok, _ := r.MatchesOn(&m, env)
		if !ok {
			continue
		}
		if loc == nil {
			loc, _ = s.zones.Resolve(p.Timezone, p.Phone, b.Timezone)
		}
		pl := r.PlanRun(*e.OccurredAt, now, loc)
		run := store.NewRun{TriggerID: r.ID, DueAt: pl.DueAt, Expires: pl.Expires, State: "scheduled"}
		if pl.Dropped {
			run.State, run.Reason, run.Detail = "dropped", ReasonLate, pl.Detail
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// DryRun is what a rule would do with an event now.
type DryRun struct {
	ContactID      int64
	Phone          string
	Matched        bool
	ConditionError string
	DueAt, Expires time.Time
	WouldSend      bool
	State          string // sent (would send), skipped, dropped, or no_match
	Reason, Detail string
	Body           string
	Segments       int
	Encoding       string
}

// Test judges an event against one rule without storing or sending
// anything: whether it matches, when the text would be due, and what it
// would say or why it would not go (as of its due time, with today's
// consent and history).
func (s *Service) Test(ctx context.Context, b store.Brand, t store.Trigger, e EventInput) (DryRun, error) {
	var out DryRun
	r, err := RuleOf(t)
	if err != nil {
		return out, err
	}
	now := s.Now()
	e.Type = t.EventType
	if e.Type == "" {
		e.Type = "date"
	}
	data, err := s.check(&e, b, now)
	if err != nil {
		return out, err
	}
	people, err := s.st.EventPeople(ctx, []store.EventWho{{ContactID: e.ContactID, LoyaltyID: e.LoyaltyID, Phone: e.Phone}})
	if err != nil {
		return out, err
	}
	p := people[0]
	if p.ContactID == 0 {
		return out, ErrContactNotFound
	}
	out.ContactID = p.ContactID
	env := conditionEnv(data, p.Attributes, p.Name, p.LoyaltyID, p.Phone, p.Timezone, e.Type)
	ok, cerr := r.Matches(env)
	if cerr != nil {
		out.ConditionError = cerr.Error()
	}
	if !ok {
		out.State, out.Reason = "no_match", "conditions"
		out.Detail = "the rule's conditions do not hold for this event"
		if cerr != nil {
			out.Detail = fmt.Sprintf("the conditions could not be evaluated: %v", cerr)
		}
		return out, nil
	}
	out.Matched = true
	loc, _ := s.zones.Resolve(p.Timezone, p.Phone, b.Timezone)
	pl := r.PlanRun(*e.OccurredAt, now, loc)
	out.DueAt, out.Expires = pl.DueAt, pl.Expires
	if pl.Dropped {
		out.State, out.Reason, out.Detail = "dropped", ReasonLate, pl.Detail
		return out, nil
	}
	d, err := s.st.PreviewRun(ctx, t.ID, p.ContactID)
	if err != nil {
		return out, err
	}
	d.EventData, d.DueAt, d.ExpiresAt = data, pl.DueAt, pl.Expires
	out.Phone = d.Phone
	at := now
	if pl.DueAt.After(now) {
		at = pl.DueAt
	}
	o := Decide(&r, d, at, loc)
	out.State, out.Reason, out.Detail, out.Body, out.Segments, out.Encoding = o.State, o.Reason, o.Detail, o.Body, o.Segments, o.Encoding
	out.WouldSend = o.State == "sent"
	return out, nil
}
