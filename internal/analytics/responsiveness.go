package analytics

import (
	"cmp"
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
	switch Clock(s) {
	case "", Wall:
		return Wall, nil
	case Business:
		return Business, nil
	}
	return "", errClock
}

type clockError struct{}

func (clockError) Error() string { return "must be wall or business" }

var errClock = clockError{}

// ResponseRules are what response times need of the brand besides its
// waits (RulesOf makes them of its routing settings): OpenBetween counts the business time of [a, b), Due is
// when a wait begun at start breaches the first-response target (false:
// no target). Until is the read's end: a wait still unanswered then is
// breached once its due time has passed.
type ResponseRules struct {
	Clock       Clock
	OpenBetween func(a, b time.Time) time.Duration
	Due         func(start time.Time) (time.Time, bool)
	Until       time.Time
	// Target is the first-response target Due applies (0: none) and
	// TargetBusiness whether it counts business hours, as reported.
	Target         time.Duration
	TargetBusiness bool
	// Loc is the brand's zone, for the hour of the day a wait began.
	Loc *time.Location
}

// ResponseBucket is the waits begun in one bucket (or the whole period).
type ResponseBucket struct {
	Waits          int
	FirstResponse  Stats
	Resolution     Stats
	Distribution   map[string]int
	SLABreaches    int // answered late, or not answered and past due
	firstSecs      []float64
	resolutionSecs []float64
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
		for _, b := range targets {
			b.Waits++
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
		b.FirstResponse, b.Resolution = Summarize(b.firstSecs), Summarize(b.resolutionSecs)
		b.Distribution = Distribution(b.firstSecs)
		b.firstSecs, b.resolutionSecs = nil, nil
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
	return r
}
