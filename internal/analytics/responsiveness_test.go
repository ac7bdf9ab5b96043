package analytics_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/routing"
)

func TestResponsiveness(t *testing.T) {
	t.Parallel()
	loc := ny(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ptr := func(s string) *time.Time { v := at(s); return &v }
	// Open Monday to Friday 09:00–17:00; 2026-03-02 is a Monday.
	hours := routing.Hours{Set: true, Loc: loc}
	for d := time.Monday; d <= time.Friday; d++ {
		hours.Week[d] = []routing.Interval{{From: 9 * 60, To: 17 * 60}}
	}
	targets := routing.Targets{FirstResponse: 15 * time.Minute}
	p := analytics.Period{Start: at("2026-03-02 00:00"), End: at("2026-03-04 00:00"), Loc: loc}
	starts := analytics.Buckets(p, analytics.Day)
	eps := []analytics.Episode{
		// Answered in 4 minutes by user 7, closed after an hour: met.
		{Conversation: 1, Start: at("2026-03-02 10:00"), FirstResponse: ptr("2026-03-02 10:04"), Resolved: ptr("2026-03-02 11:00"), Responder: 7},
		// Sent at night, answered at 09:10: 9h40m on the wall clock, 10
		// minutes of business time; breached (a wall-clock target).
		{Conversation: 2, Start: at("2026-03-02 23:30"), FirstResponse: ptr("2026-03-03 09:10"), Responder: 8},
		// Never answered, due 12:15, read at 13:10: breached.
		{Conversation: 3, Start: at("2026-03-03 12:00")},
		// Never answered, due 13:15: pending.
		{Conversation: 4, Start: at("2026-03-03 13:00")},
		// Before the period: not counted.
		{Conversation: 5, Start: at("2026-03-01 20:00"), FirstResponse: ptr("2026-03-02 09:00"), Responder: 7},
		// Answered by user 7 in 30 minutes: breached.
		{Conversation: 6, Start: at("2026-03-03 09:00"), FirstResponse: ptr("2026-03-03 09:30"), Responder: 7},
		// Closed without a reply 5 minutes in: owed nothing, counted
		// neither way (a wait all the same).
		{Conversation: 7, Start: at("2026-03-03 11:00"), Resolved: ptr("2026-03-03 11:05")},
	}
	rules := func(c analytics.Clock) analytics.ResponseRules {
		return analytics.ResponseRules{Clock: c, OpenBetween: hours.OpenBetween, Loc: loc, Until: at("2026-03-03 13:10"),
			Due: func(s time.Time) (time.Time, bool) { return routing.Due(targets, hours, s, false) }, Target: targets.FirstResponse}
	}
	wall := analytics.Responsiveness(eps, starts, p.End, rules(analytics.Wall))
	f := func(v *float64) float64 {
		if v == nil {
			return -1
		}
		return *v
	}
	if got := wall.Total; got.Waits != 6 || got.FirstResponse.Count != 3 || f(got.FirstResponse.P50) != 1800 ||
		f(got.FirstResponse.Mean) != (240+34800+1800)/3.0 || got.Resolution.Count != 2 || f(got.Resolution.P50) != 1950 || got.SLABreaches != 3 {
		t.Errorf("wall total: %+v first %v/%v resolution %v", got, f(got.FirstResponse.P50), f(got.FirstResponse.Mean), f(got.Resolution.P50))
	}
	if b := wall.Buckets; len(b) != 2 || b[0].Waits != 2 || b[1].Waits != 4 || b[0].SLABreaches != 1 || b[1].SLABreaches != 2 ||
		b[0].Distribution["0-5m"] != 1 || b[0].Distribution[">4h"] != 1 || b[1].Distribution["15-60m"] != 1 {
		t.Errorf("wall buckets: %+v", b)
	}
	if wall.SLA != (analytics.SLASummary{Target: 15 * time.Minute, Met: 1, Breached: 3, Pending: 1}) {
		t.Errorf("SLA: %+v", wall.SLA)
	}
	if h := wall.ByHour; h[10].Waits != 1 || h[23].Waits != 1 || h[12].Waits != 1 || h[13].Waits != 1 || h[9].Waits != 1 || h[20].Waits != 0 {
		t.Errorf("by hour: 9:%d 10:%d 12:%d 13:%d 20:%d 23:%d", h[9].Waits, h[10].Waits, h[12].Waits, h[13].Waits, h[20].Waits, h[23].Waits)
	}
	if a := wall.ByAgent; len(a) != 2 || a[0].UserID != 7 || a[0].FirstResponse.Count != 2 || a[0].SLABreaches != 1 ||
		f(a[0].FirstResponse.Mean) != 1020 || a[1].UserID != 8 || f(a[1].FirstResponse.P50) != 34800 || a[1].SLABreaches != 1 {
		t.Errorf("by agent: %+v", a)
	}
	biz := analytics.Responsiveness(eps, starts, p.End, rules(analytics.Business))
	if got := biz.Total.FirstResponse; got.Count != 3 || f(got.P50) != 600 || f(got.Mean) != (240+600+1800)/3.0 {
		t.Errorf("business first responses: count %d p50 %v mean %v", got.Count, f(got.P50), f(got.Mean))
	}
	if biz.SLA != wall.SLA {
		t.Errorf("the target's own clock decides breaches, not the toggle: %+v vs %+v", biz.SLA, wall.SLA)
	}
	if _, err := analytics.ParseClock("lunar"); err == nil {
		t.Error("hours=lunar accepted")
	}
	none := analytics.Responsiveness(eps, starts, p.End, analytics.ResponseRules{Loc: loc})
	if none.SLA != (analytics.SLASummary{}) || none.Total.SLABreaches != 0 {
		t.Errorf("no target, yet %+v", none.SLA)
	}
}

// Next responses and automatic answers: a wait answered automatically
// first and by a person after, the customer writing again twice (the
// second time while the first is still unanswered: one next response),
// and a follow-up left unanswered at the close.
func TestNextResponsesAndAutomaticAnswers(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	ev := func(conv int64, kind analytics.EventKind, min int) analytics.Event {
		return analytics.Event{Conversation: conv, Kind: kind, At: at(min), Actor: 7}
	}
	eps := analytics.Episodes([]analytics.Event{
		ev(1, analytics.Inbound, 0), ev(1, analytics.AutoReply, 0), ev(1, analytics.AgentReply, 4),
		ev(1, analytics.Inbound, 10), ev(1, analytics.Inbound, 12), ev(1, analytics.AgentReply, 30),
		ev(1, analytics.Inbound, 40), ev(1, analytics.AutoReply, 41), ev(1, analytics.Closed, 50),
		// Answered only automatically, still open.
		ev(2, analytics.Inbound, 5), ev(2, analytics.AutoReply, 5),
		// An automatic answer after the person's is not "first".
		ev(3, analytics.Inbound, 5), ev(3, analytics.AgentReply, 6), ev(3, analytics.AutoReply, 7),
		// Nobody answered.
		ev(4, analytics.Inbound, 8),
	})
	if len(eps) != 4 {
		t.Fatalf("%d episodes: %+v", len(eps), eps)
	}
	one := eps[0]
	if one.AutoReply == nil || !one.AutoReply.Equal(at(0)) || len(one.Next) != 1 || one.Next[0] != (analytics.Span{Asked: at(10), Answered: at(30)}) ||
		one.Pending != nil || one.Resolved == nil {
		t.Fatalf("first conversation: %+v", one)
	}
	if eps[2].AutoReply != nil {
		t.Errorf("an automatic answer after the person's counted first: %+v", eps[2])
	}
	// The same events cut at minute 35, the wait carried on from what was
	// stored then: the same episode.
	cut := analytics.Episodes([]analytics.Event{ev(1, analytics.Inbound, 0), ev(1, analytics.AutoReply, 0), ev(1, analytics.AgentReply, 4),
		ev(1, analytics.Inbound, 10)})[0]
	if cut.Pending == nil || !cut.Pending.Equal(at(10)) {
		t.Fatalf("pending at the cut: %+v", cut)
	}
	carried := analytics.Episodes(analytics.WithStoredWaits([]analytics.Event{ev(1, analytics.Inbound, 12), ev(1, analytics.AgentReply, 30),
		ev(1, analytics.Inbound, 40), ev(1, analytics.AutoReply, 41), ev(1, analytics.Closed, 50)}, map[int64]analytics.Episode{1: cut}))
	if len(carried) != 1 || len(carried[0].Next) != 1 || carried[0].Next[0] != one.Next[0] || !carried[0].FirstResponse.Equal(*one.FirstResponse) ||
		!carried[0].AutoReply.Equal(*one.AutoReply) || carried[0].Responder != 7 {
		t.Fatalf("carried on: %+v, want %+v", carried, one)
	}

	p := analytics.Period{Start: at(-600), End: at(600), Loc: time.UTC}
	targets := routing.Targets{FirstResponse: 15 * time.Minute, NextResponse: 10 * time.Minute}
	rt := analytics.Responsiveness(eps, analytics.Buckets(p, analytics.Day), p.End, analytics.RulesOf(routing.Settings{Targets: targets}, analytics.Wall, p, at(60)))
	if n := rt.Total.NextResponse; n.Count != 1 || *n.P50 != 1200 || rt.Total.NextBreaches != 1 {
		t.Errorf("next responses %+v breaches %d, want one of 1200 s, late for a 600 s target", n, rt.Total.NextBreaches)
	}
	want := map[string]int{"person": 1, "auto_reply_then_person": 1, "auto_reply_only": 1, "none": 1}
	for k, v := range want {
		if rt.Total.AnsweredBy[k] != v {
			t.Errorf("answered by %s: %d, want %d (%v)", k, rt.Total.AnsweredBy[k], v, rt.Total.AnsweredBy)
		}
	}
}
