package analytics

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/routing"
)

// Clock says how a wait's length is counted.
type Clock string

// The clocks of ?hours=.
const (
	// Wall counts every second from the customer's text to the answer.
	Wall Clock = "wall"
	// Business counts only the seconds the brand was open (its routing
	// business hours): a text sent on Friday night and answered at 9:05 on
	// Monday waited five minutes.
	Business Clock = "business"
)

// ParseClock reads ?hours=: wall (the default, "") or business.
func ParseClock(s string) (Clock, error) {
	if s == "" {
		return Wall, nil
	}
	if c := Clock(s); c == Wall || c == Business {
		return c, nil
	}
	return "", fmt.Errorf("must be wall or business, not %q", s)
}

// ResponseRules are what response times need of the brand besides its
// waits (RulesOf makes them of its routing settings): OpenBetween counts the business time of [a, b), Due is
// when a wait begun at start breaches the first-response target (false:
// no target). Until is the read's end: a wait still unanswered then is
// breached once its due time has passed.
type ResponseRules struct {
	Clock       Clock
	OpenBetween func(a, b time.Time) time.Duration
	Due         func(start time.Time) (time.Time, bool)
	// DueNext is when a next response to a text at asked is due.
	DueNext func(asked time.Time) (time.Time, bool)
	Until   time.Time
	// Target is the first-response target Due applies (0: none) and
	// TargetBusiness whether it counts business hours, as reported.
	Target         time.Duration
	TargetBusiness bool
	// Loc is the brand's zone, for the hour of the day a wait began.
	Loc *time.Location
}

// AnsweredBy are the ways a wait was answered, in order: a person only,
// an automatic answer and then a person, an automatic answer only, none.
var AnsweredBy = []string{"person", "auto_reply_then_person", "auto_reply_only", "none"}

// ResponseBucket is the waits begun in one bucket (or the whole period).
type ResponseBucket struct {
	Waits         int
	FirstResponse Stats
	Resolution    Stats
	// NextResponse is the time from each customer text after a person's
	// reply to the person's next reply, over the bucket's waits.
	NextResponse Stats
	Distribution map[string]int
	SLABreaches  int // answered late, or not answered and past due
	// NextBreaches are next responses that came after the target.
	NextBreaches int
	// AnsweredBy counts the waits by who answered first (AnsweredBy's keys).
	AnsweredBy     map[string]int
	firstSecs      []float64
	resolutionSecs []float64
	nextSecs       []float64
}

// AgentTimes are one person's first responses of the period: the waits
// whose first reply by a person was theirs.
type AgentTimes struct {
	UserID        int64
	FirstResponse Stats
	Resolution    Stats
	SLABreaches   int
}

// SLASummary is the period's waits against the first-response target.
type SLASummary struct {
	// Target is 0 when the brand has none (nothing is then breached).
	Target        time.Duration
	BusinessHours bool
	// Met: answered by the due time; Breached: answered later, or not
	// answered and past due; Pending: not answered, not yet due.
	Met, Breached, Pending int
}

// ResponseTimes are a period's response times.
type ResponseTimes struct {
	Buckets []ResponseBucket
	Total   ResponseBucket
	// ByAgent is ordered by first responses, most first, then user id.
	ByAgent []AgentTimes
	// ByHour is by the local hour of the day the wait began (0–23).
	ByHour [24]ResponseBucket
	SLA    SLASummary
}

// Responsiveness sums eps (in any order) into per-bucket, per-agent and
// per-hour response times: the time from a wait's start to the first reply
// by a person and to the close, on the wall clock or in business hours.
// starts and end are the buckets (Buckets) and the period's end.
func Responsiveness(eps []Episode, starts []time.Time, end time.Time, r ResponseRules) ResponseTimes {
	out := ResponseTimes{Buckets: make([]ResponseBucket, len(starts))}
	loc := r.Loc
	if loc == nil {
		loc = time.UTC
	}
	length := func(a, b time.Time) float64 {
		if r.Clock == Business && r.OpenBetween != nil {
			return r.OpenBetween(a, b).Seconds()
		}
		return b.Sub(a).Seconds()
	}
	type agentSecs struct {
		first, resolution []float64
		breaches          int
	}
	agents := map[int64]*agentSecs{}
	for _, ep := range eps {
		i := Index(starts, end, ep.Start)
		if i < 0 {
			continue
		}
		hour := &out.ByHour[ep.Start.In(loc).Hour()]
		targets := []*ResponseBucket{&out.Buckets[i], &out.Total, hour}
		breached := false
		if r.Due != nil {
			if due, ok := r.Due(ep.Start); ok {
				switch {
				case ep.FirstResponse == nil && ep.Resolved != nil && !ep.Resolved.After(due):
					// Closed before it was due, with no reply: nothing
					// was owed (a "never mind", a duplicate), neither
					// way.
				case ep.FirstResponse != nil && !ep.FirstResponse.After(due):
					out.SLA.Met++
				case ep.FirstResponse != nil || !due.After(r.Until):
					out.SLA.Breached++
					breached = true
				default:
					out.SLA.Pending++
				}
			}
		}
		var first, resolution float64
		if ep.FirstResponse != nil {
			first = length(ep.Start, *ep.FirstResponse)
		}
		if ep.Resolved != nil {
			resolution = length(ep.Start, *ep.Resolved)
		}
		var next []float64
		nextLate := 0
		for _, sp := range ep.Next {
			next = append(next, length(sp.Asked, sp.Answered))
			if r.DueNext != nil {
				if due, ok := r.DueNext(sp.Asked); ok && sp.Answered.After(due) {
					nextLate++
				}
			}
		}
		by := "none"
		switch {
		case ep.FirstResponse != nil && ep.AutoReply != nil:
			by = "auto_reply_then_person"
		case ep.FirstResponse != nil:
			by = "person"
		case ep.AutoReply != nil:
			by = "auto_reply_only"
		}
		for _, b := range targets {
			b.Waits++
			if b.AnsweredBy == nil {
				b.AnsweredBy = zeroAnswered()
			}
			b.AnsweredBy[by]++
			b.nextSecs = append(b.nextSecs, next...)
			b.NextBreaches += nextLate
			if breached {
				b.SLABreaches++
			}
			if ep.FirstResponse != nil {
				b.firstSecs = append(b.firstSecs, first)
			}
			if ep.Resolved != nil {
				b.resolutionSecs = append(b.resolutionSecs, resolution)
			}
		}
		if ep.FirstResponse != nil && ep.Responder != 0 {
			a := agents[ep.Responder]
			if a == nil {
				a = &agentSecs{}
				agents[ep.Responder] = a
			}
			a.first = append(a.first, first)
			if ep.Resolved != nil {
				a.resolution = append(a.resolution, resolution)
			}
			if breached {
				a.breaches++
			}
		}
	}
	finish := func(b *ResponseBucket) {
		b.FirstResponse, b.Resolution, b.NextResponse = Summarize(b.firstSecs), Summarize(b.resolutionSecs), Summarize(b.nextSecs)
		b.Distribution = Distribution(b.firstSecs)
		if b.AnsweredBy == nil {
			b.AnsweredBy = zeroAnswered()
		}
		b.firstSecs, b.resolutionSecs, b.nextSecs = nil, nil, nil
	}
	for i := range out.Buckets {
		finish(&out.Buckets[i])
	}
	for i := range out.ByHour {
		finish(&out.ByHour[i])
	}
	finish(&out.Total)
	for id, a := range agents {
		out.ByAgent = append(out.ByAgent, AgentTimes{UserID: id, FirstResponse: Summarize(a.first),
			Resolution: Summarize(a.resolution), SLABreaches: a.breaches})
	}
	slices.SortFunc(out.ByAgent, func(a, b AgentTimes) int {
		if c := cmp.Compare(b.FirstResponse.Count, a.FirstResponse.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	out.SLA.Target, out.SLA.BusinessHours = r.Target, r.TargetBusiness
	return out
}

// RulesOf are the response rules of a brand with routing settings s, read
// on clock c at until (the read's end, at most ResponseLookahead after
// the period's end, after which nothing more is seen).
func RulesOf(s routing.Settings, c Clock, p Period, until time.Time) ResponseRules {
	if lim := p.End.Add(ResponseLookahead); until.After(lim) {
		until = lim
	}
	r := ResponseRules{Clock: c, OpenBetween: s.Hours.OpenBetween, Until: until, Loc: p.Loc,
		Target: s.Targets.FirstResponse, TargetBusiness: s.Targets.BusinessHours}
	if s.Targets.FirstResponse > 0 {
		r.Due = func(start time.Time) (time.Time, bool) { return routing.Due(s.Targets, s.Hours, start, false) }
	}
	if s.Targets.FirstResponse > 0 || s.Targets.NextResponse > 0 {
		r.DueNext = func(asked time.Time) (time.Time, bool) { return routing.Due(s.Targets, s.Hours, asked, true) }
	}
	return r
}

func zeroAnswered() map[string]int {
	m := make(map[string]int, len(AnsweredBy))
	for _, k := range AnsweredBy {
		m[k] = 0
	}
	return m
}
