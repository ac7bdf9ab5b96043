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
	if got := wall.Total; got.Waits != 5 || got.FirstResponse.Count != 3 || f(got.FirstResponse.P50) != 1800 ||
		f(got.FirstResponse.Mean) != (240+34800+1800)/3.0 || got.Resolution.Count != 1 || f(got.Resolution.P50) != 3600 || got.SLABreaches != 3 {
		t.Errorf("wall total: %+v first %v/%v resolution %v", got, f(got.FirstResponse.P50), f(got.FirstResponse.Mean), f(got.Resolution.P50))
	}
	if b := wall.Buckets; len(b) != 2 || b[0].Waits != 2 || b[1].Waits != 3 || b[0].SLABreaches != 1 || b[1].SLABreaches != 2 ||
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
