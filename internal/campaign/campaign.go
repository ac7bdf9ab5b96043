package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/question"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

// MaxVariants is how many bodies an A/B test may compare.
const MaxVariants = 4

// Errors the callers map to answers.
var (
	ErrNotFound   = errors.New("no such campaign")
	ErrWrongState = store.ErrWrongState
)

// Service creates and controls campaigns.
type Service struct {
	st        *store.Store
	outbox    *outbound.Outbox
	publicURL string
	zones     contact.Zones
	// Now is the clock (tests move it).
	Now func() time.Time
	Log *slog.Logger
}

// NewService returns the campaign service; publicURL is where tracked
// links point (PARLEY_PUBLIC_URL).
func NewService(st *store.Store, outbox *outbound.Outbox, publicURL string) *Service {
	return &Service{st: st, outbox: outbox, publicURL: strings.TrimRight(publicURL, "/"), Now: time.Now}
}

// Input is a new campaign as the API and the console give it.
type Input struct {
	Name       string
	Body       string   // one body, or
	Variants   []string // up to MaxVariants bodies
	Audience   json.RawMessage
	Numbers    []string
	TrackLinks bool
	CreatedBy  string
	// Question, when set, is asked by every text; results split by variant.
	Question *question.Input
}

// Create checks in and stores a draft campaign for brand b.
func (s *Service) Create(ctx context.Context, b store.Brand, in Input) (store.Campaign, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return store.Campaign{}, fieldErr("name", "a campaign name is 1 to 200 characters")
	}
	bodies := in.Variants
	switch {
	case in.Body != "" && len(in.Variants) > 0:
		return store.Campaign{}, fieldErr("variants", "give body or variants, not both")
	case in.Body != "":
		bodies = []string{in.Body}
	case len(bodies) == 0:
		return store.Campaign{}, fieldErr("body", "a campaign needs a text")
	case len(bodies) > MaxVariants:
		return store.Campaign{}, fieldErr("variants", "at most %d variants", MaxVariants)
	}
	for i, body := range bodies {
		field := "body"
		if len(in.Variants) > 0 {
			field = fmt.Sprintf("variants[%d].body", i)
		}
		if strings.TrimSpace(body) == "" {
			return store.Campaign{}, fieldErr(field, "the text is empty")
		}
		if utf8.RuneCountInString(body) > outbound.MaxBody {
			return store.Campaign{}, fieldErr(field, "longer than %d characters", outbound.MaxBody)
		}
		if _, err := personalize.ParseWithLinks(body); err != nil {
			return store.Campaign{}, fieldErr(field, "%v", err)
		}
	}
	aud, err := ParseAudience(in.Audience, "audience.", b.DefaultCountry)
	if err != nil {
		return store.Campaign{}, err
	}
	if aud.SegmentID != 0 {
		if _, err := s.segmentOf(ctx, b, aud.SegmentID, "audience.segment_id"); err != nil {
			return store.Campaign{}, err
		}
	}
	numbers := []string{}
	for i, n := range in.Numbers {
		e, err := contact.NormalizeSender(n)
		if err != nil || !slices.ContainsFunc(b.Numbers, func(bn store.BrandNumber) bool { return bn.Number == e }) {
			return store.Campaign{}, fieldErr(fmt.Sprintf("numbers[%d]", i), "%q is not a number of brand %s", n, b.Slug)
		}
		if !slices.Contains(numbers, e) {
			numbers = append(numbers, e)
		}
	}
	if len(b.Numbers) == 0 {
		return store.Campaign{}, fieldErr("brand", "brand %s has no sender number", b.Slug)
	}
	audJSON, err := json.Marshal(aud)
	if err != nil {
		return store.Campaign{}, err
	}
	var qid int64
	if in.Question != nil {
		q, err := in.Question.Check(b.ID)
		if err != nil {
			field, msg := question.FieldOf(err)
			return store.Campaign{}, fieldErr("question."+field, "%s", msg)
		}
		if qid, err = s.st.CreateQuestion(ctx, q); err != nil {
			return store.Campaign{}, err
		}
	}
	return s.st.CreateCampaign(ctx, store.Campaign{BrandID: b.ID, Name: name, Variants: bodies, Audience: audJSON,
		Numbers: numbers, TrackLinks: in.TrackLinks, FailThreshold: 0.2, CreatedBy: in.CreatedBy, QuestionID: qid})
}

// segmentOf returns segment id of brand b, or a field error.
func (s *Service) segmentOf(ctx context.Context, b store.Brand, id int64, field string) (store.Segment, error) {
	g, err := s.st.SegmentByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.BrandID != b.ID) {
		return g, fieldErr(field, "brand %s has no segment %d", b.Slug, id)
	}
	return g, err
}

// Get returns a campaign, or ErrNotFound.
func (s *Service) Get(ctx context.Context, id int64) (store.Campaign, error) {
	c, err := s.st.CampaignByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, ErrNotFound
	}
	return c, err
}

// audience resolves a campaign's (or segment's) audience document, with
// its segment's filter read now.
func (s *Service) audience(ctx context.Context, b store.Brand, raw json.RawMessage) (store.Audience, error) {
	brandID := b.ID
	a, err := ParseAudience(raw, "audience.", b.DefaultCountry)
	if err != nil {
		return store.Audience{}, err
	}
	if a.SegmentID != 0 {
		g, err := s.st.SegmentByID(ctx, a.SegmentID)
		if errors.Is(err, store.ErrNotFound) {
			return store.Audience{}, fieldErr("audience.segment_id", "segment %d no longer exists", a.SegmentID)
		}
		if err != nil {
			return store.Audience{}, err
		}
		if g.BrandID != brandID {
			return store.Audience{}, fieldErr("audience.segment_id", "segment %d belongs to another brand", g.ID)
		}
		if a, err = ParseAudience(g.Filter, "segment.filter.", b.DefaultCountry); err != nil {
			return store.Audience{}, err
		}
		a.SegmentID = 0
	}
	return a.Compile("audience.", s.Now())
}

// Estimate is what a campaign would cost and reach if it went at a time.
type Estimate struct {
	Eligible   int            `json:"eligible"`
	Excluded   map[string]int `json:"excluded"` // opted_out, no_marketing_consent, undeliverable, frequency_cap, quiet_hours, unrenderable
	Segments   int            `json:"segments"`
	Encodings  map[string]int `json:"encodings"` // recipients per encoding
	At         time.Time      `json:"at"`
	PerVariant []int          `json:"per_variant"`
}

// Estimate counts who a campaign of brand b would reach at at (zero: now):
// the eligible recipients, their total segments, and how many are
// excluded and why. A recipient whose local time at at falls in quiet
// hours is counted under quiet_hours (their text would be held until the
// morning, not dropped).
func (s *Service) Estimate(ctx context.Context, b store.Brand, c store.Campaign, at time.Time) (Estimate, error) {
	if at.IsZero() {
		at = s.Now()
	}
	est := Estimate{Encodings: map[string]int{segment.GSM7: 0, segment.UCS2: 0}, At: at, PerVariant: make([]int, len(c.Variants))}
	aud, err := s.audience(ctx, b, c.Audience)
	if err != nil {
		return est, err
	}
	tpls, err := parseAll(c.Variants)
	if err != nil {
		return est, err
	}
	quiet, unrenderable := 0, 0
	i := 0
	got, err := s.st.EstimateAudience(ctx, b.ID, aud, func(r store.EligibleRecipient) error {
		if r.SentLast24h >= b.MarketingCap {
			i++
			return nil
		}
		v := i % len(tpls)
		i++
		body, err := tpls[v].Render(dataOf(r.Recipient), nil)
		if err != nil || strings.TrimSpace(body) == "" {
			unrenderable++
			return nil
		}
		n, enc := segment.Count(body)
		est.Eligible++
		est.PerVariant[v]++
		est.Segments += n
		est.Encodings[enc]++
		loc, _ := s.zones.Resolve(r.Timezone, r.Phone, b.Timezone)
		region, _, _ := contact.AreaCodeInfo(r.Phone)
		if next, held := outbound.NextSendTime(at, loc, outbound.WindowFor(b.QuietStart, b.QuietEnd, region)); held && next.After(at) {
			quiet++
		}
		return nil
	})
	if err != nil {
		return est, err
	}
	est.Excluded = got.Excluded
	est.Excluded["frequency_cap"] = i - est.Eligible - unrenderable
	est.Excluded["unrenderable"] = unrenderable
	est.Excluded["quiet_hours"] = quiet
	return est, nil
}

func parseAll(bodies []string) ([]*personalize.Renderer, error) {
	out := make([]*personalize.Renderer, len(bodies))
	for i, b := range bodies {
		t, err := personalize.ParseWithLinks(b)
		if err != nil {
			return nil, err
		}
		if out[i], err = personalize.NewRenderer(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func dataOf(r store.Recipient) personalize.Data {
	return personalize.NewData(r.Name, r.Phone, r.LoyaltyID, r.Attributes)
}

// Schedule sets a draft going: at (zero: now), and with localTime
// ("10:00") each recipient's text goes at that time of their own day,
// the first such time after at.
func (s *Service) Schedule(ctx context.Context, c store.Campaign, at time.Time, localTime string) error {
	if localTime != "" {
		if _, err := parseClock(localTime); err != nil {
			return fieldErr("local_time", "%q is not a time of day (HH:MM)", localTime)
		}
	}
	if at.IsZero() {
		at = s.Now()
	}
	return s.st.ScheduleCampaign(ctx, c.ID, at, localTime)
}

// Pause stops a running or scheduled campaign's sending at once.
func (s *Service) Pause(ctx context.Context, c store.Campaign, reason string) error {
	if reason == "" {
		reason = "paused by a person"
	}
	return s.st.PauseCampaign(ctx, c.ID, reason)
}

// Resume continues a paused campaign where it stopped: the recipients
// not yet texted fan out next.
func (s *Service) Resume(ctx context.Context, c store.Campaign) error {
	return s.st.ResumeCampaign(ctx, c.ID)
}

// Cancel ends a campaign: what has not gone will not.
func (s *Service) Cancel(ctx context.Context, c store.Campaign) error {
	return s.st.CancelCampaign(ctx, c.ID)
}

// enqueue gives stored texts their send tasks, grouped per sender number
// and due time. A failure loses nothing: the relay enqueues what was not.
func (s *Service) enqueue(ctx context.Context, texts []store.Fanned) {
	type key struct {
		from string
		at   time.Time
	}
	groups := map[key][]int64{}
	var order []key
	for _, t := range texts {
		k := key{from: t.From}
		if t.SendAt != nil {
			k.at = t.SendAt.UTC()
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t.ID)
	}
	for _, k := range order {
		if err := s.outbox.EnqueueBulk(context.WithoutCancel(ctx), k.from, groups[k], k.at); err != nil {
			if s.Log != nil {
				s.Log.Warn("campaigns: enqueue failed; the relay enqueues the texts", "texts", len(groups[k]), "err", err)
			}
			return
		}
	}
}

// Results are a campaign's figures per variant.
func (s *Service) Results(ctx context.Context, c store.Campaign) ([]store.VariantResult, error) {
	return s.st.CampaignResults(ctx, c.ID, len(c.Variants))
}

// Totals adds the variants' counts up.
func Totals(rs []store.VariantResult) map[string]int {
	out := map[string]int{}
	for _, st := range store.RecipientStates {
		out[st] = 0
	}
	for _, r := range rs {
		for k, v := range r.Counts {
			out[k] += v
		}
	}
	return out
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("not HH:MM")
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// NextLocal is the first time at or after from that the clock in loc
// shows of (a time of day); on a day that skips it (a DST change) the
// moment the clock jumps past it.
func NextLocal(from time.Time, loc *time.Location, of time.Duration) time.Time {
	l := from.In(loc)
	for d := 0; d < 3; d++ {
		day := time.Date(l.Year(), l.Month(), l.Day()+d, 0, 0, 0, 0, loc)
		t := time.Date(day.Year(), day.Month(), day.Day(), int(of/time.Hour), int(of%time.Hour/time.Minute), 0, 0, loc)
		if !t.Before(from) {
			return t
		}
	}
	return from
}

// Click counts a click on a tracked link and returns its address.
func (s *Service) Click(ctx context.Context, code string) (string, error) {
	if !validCode(code) {
		return "", ErrNotFound
	}
	u, err := s.st.ClickLink(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrNotFound
	}
	return u, err
}

// SegmentInput is a new segment.
type SegmentInput struct {
	Name   string
	Filter json.RawMessage
}

// CreateSegment checks and stores a saved audience of brand b. A segment
// is a filter (a list of people is a campaign's own audience).
func (s *Service) CreateSegment(ctx context.Context, b store.Brand, in SegmentInput) (store.Segment, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return store.Segment{}, fieldErr("name", "a segment name is 1 to 200 characters")
	}
	a, err := ParseAudience(in.Filter, "filter.", b.DefaultCountry)
	if err != nil {
		return store.Segment{}, err
	}
	if a.SegmentID != 0 {
		return store.Segment{}, fieldErr("filter.segment_id", "a segment cannot name another segment")
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return store.Segment{}, err
	}
	g, err := s.st.CreateSegment(ctx, store.Segment{BrandID: b.ID, Name: name, Filter: raw})
	g.BrandSlug = b.Slug
	return g, err
}

// Count is how many people an audience reaches now: those who may be sent
// marketing, and the others by reason.
type Count struct {
	Eligible int            `json:"eligible"`
	Excluded map[string]int `json:"excluded"`
}

// CountAudience counts an audience document of brand b now.
func (s *Service) CountAudience(ctx context.Context, b store.Brand, raw json.RawMessage) (Count, error) {
	aud, err := s.audience(ctx, b, raw)
	if err != nil {
		return Count{}, err
	}
	n := 0
	capped := 0
	est, err := s.st.EstimateAudience(ctx, b.ID, aud, func(r store.EligibleRecipient) error {
		if r.SentLast24h >= b.MarketingCap {
			capped++
		} else {
			n++
		}
		return nil
	})
	if err != nil {
		return Count{}, err
	}
	est.Excluded["frequency_cap"] = capped
	return Count{Eligible: n, Excluded: est.Excluded}, nil
}
