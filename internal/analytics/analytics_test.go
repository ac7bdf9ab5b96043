package analytics_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/analytics"
)

func ny(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Day buckets are local calendar days, 25 hours on the fall-back day;
// hour buckets count the repeated 01:00 twice.
func TestBucketsAcrossDST(t *testing.T) {
	t.Parallel()
	loc := ny(t)
	p, field, err := analytics.ParsePeriod("2026-10-31", "2026-11-02", time.Time{}, loc)
	if err != nil {
		t.Fatal(field, err)
	}
	days := analytics.Buckets(p, analytics.Day)
	var labels []string
	for _, d := range days {
		labels = append(labels, analytics.Label(d, analytics.Day, loc))
	}
	if want := []string{"2026-10-31", "2026-11-01", "2026-11-02"}; !slices.Equal(labels, want) {
		t.Fatalf("days %v, want %v", labels, want)
	}
	if d := days[2].Sub(days[1]); d != 25*time.Hour {
		t.Fatalf("2026-11-01 lasts %v, want 25h", d)
	}
	if p.Count(analytics.Day) != 3 || p.Count(analytics.Hour) != 73 {
		t.Fatalf("counts %d days %d hours", p.Count(analytics.Day), p.Count(analytics.Hour))
	}
	hours := analytics.Buckets(p, analytics.Hour)
	if len(hours) != 24+25+24 {
		t.Fatalf("%d hours, want 73", len(hours))
	}
	if got := analytics.Label(hours[24+1], analytics.Hour, loc) + " " + analytics.Label(hours[24+2], analytics.Hour, loc); got != "2026-11-01T01:00:00-04:00 2026-11-01T01:00:00-05:00" {
		t.Fatalf("the repeated hour: %s", got)
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 11, 1, 3, 59, 0, 0, time.UTC), 0}, // 23:59 EDT on the 31st
		{time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC), 1},  // midnight EDT
		{time.Date(2026, 11, 2, 4, 59, 0, 0, time.UTC), 1}, // 23:59 EST on the 1st
		{time.Date(2026, 11, 2, 5, 0, 0, 0, time.UTC), 2},
		{time.Date(2026, 11, 3, 5, 0, 0, 0, time.UTC), -1},
		{time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC), -1},
	} {
		if got := analytics.Index(days, p.End, c.at); got != c.want {
			t.Errorf("%v falls in day %d, want %d", c.at, got, c.want)
		}
	}
	prev := p.Previous()
	if prev.End != p.Start || prev.Start != time.Date(2026, 10, 28, 0, 0, 0, 0, loc) {
		t.Fatalf("previous period %v–%v", prev.Start, prev.End)
	}
	if _, field, err := analytics.ParsePeriod("2026-11-02", "2026-11-01", time.Time{}, loc); field != "to" || err == nil {
		t.Fatalf("to before from: %q %v", field, err)
	}
	if _, field, _ := analytics.ParsePeriod("2026-13-01", "2026-11-01", time.Time{}, loc); field != "from" {
		t.Fatalf("bad from: %q", field)
	}
	// Without dates: the week up to today, today being local (04:30 UTC
	// on Nov 3 is still Nov 2 in New York).
	p, _, err = analytics.ParsePeriod("", "", time.Date(2026, 11, 3, 4, 30, 0, 0, time.UTC), loc)
	if err != nil || analytics.Label(p.Start, analytics.Day, loc) != "2026-10-27" || analytics.Label(p.End, analytics.Day, loc) != "2026-11-03" {
		t.Fatalf("default period %v–%v %v", p.Start, p.End, err)
	}
	if _, err := analytics.ParseGranularity("week"); err == nil {
		t.Fatal("week accepted")
	}
}

func TestSummarizeAndDistribution(t *testing.T) {
	t.Parallel()
	secs := []float64{600, 60, 7200, 120, 20000, 300, 1800, 240, 900, 30}
	s := analytics.Summarize(secs)
	// sorted: 30 60 120 240 300 600 900 1800 7200 20000
	if s.Count != 10 || *s.P50 != 450 || *s.P90 != 8480 || *s.Mean != 3125 {
		t.Fatalf("stats %d %v %v %v", s.Count, *s.P50, *s.P90, *s.Mean)
	}
	if e := analytics.Summarize(nil); e.Count != 0 || e.P50 != nil || e.Mean != nil {
		t.Fatalf("empty: %+v", e)
	}
	want := map[string]int{"0-5m": 4, "5-15m": 2, "15-60m": 2, "1-4h": 1, ">4h": 1}
	if got := analytics.Distribution(secs); !reflect.DeepEqual(got, want) {
		t.Fatalf("distribution %v, want %v", got, want)
	}
}

func TestEpisodes(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time {
		return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute)
	}
	ev := []analytics.Event{
		{Conversation: 1, Kind: analytics.AgentReply, At: at(0)}, // an agent writing first starts nothing
		{Conversation: 1, Kind: analytics.Inbound, At: at(1)},
		{Conversation: 1, Kind: analytics.Inbound, At: at(2)},
		{Conversation: 1, Kind: analytics.AgentReply, At: at(11)},
		{Conversation: 1, Kind: analytics.AgentReply, At: at(12)},
		{Conversation: 1, Kind: analytics.Closed, At: at(30)},
		{Conversation: 1, Kind: analytics.Closed, At: at(31)},
		{Conversation: 1, Kind: analytics.Inbound, At: at(60)}, // reopens
		{Conversation: 2, Kind: analytics.Inbound, At: at(5)},
	}
	got := analytics.Episodes(ev)
	if len(got) != 3 {
		t.Fatalf("%d episodes: %+v", len(got), got)
	}
	if got[0].Start != at(1) || *got[0].FirstResponse != at(11) || *got[0].Resolved != at(30) {
		t.Fatalf("first episode %+v", got[0])
	}
	if got[1].Start != at(60) || got[1].FirstResponse != nil || got[1].Resolved != nil {
		t.Fatalf("reopened episode %+v", got[1])
	}
	if got[2].Conversation != 2 || got[2].Start != at(5) {
		t.Fatalf("second conversation %+v", got[2])
	}

	// Conversation 2 was already waiting before these events: its text
	// at 5 starts nothing.
	with := analytics.WithOpenWaits(ev, map[int64]time.Time{2: at(-60)})
	if got := analytics.Episodes(with); len(got) != 3 || got[2].Start != at(-60) {
		t.Fatalf("with an open wait: %+v", got)
	}
}

func TestTokensAndTerms(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Is the POOL open?", []string{"pool", "pool open", "open"}},
		{"I don't have my room key!!", []string{"room", "room key", "key"}},
		{"late checkout, late checkout", []string{"late", "late checkout", "checkout"}},
		{"STOP", nil},
		{"room 1204 a/c broken", []string{"room", "broken"}},
		{"Café au lait", []string{"café", "café au", "au", "au lait", "lait"}},
	} {
		if got := analytics.Terms(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Terms(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A known corpus: what it is about, and what grew against the week before.
func TestTopAndRising(t *testing.T) {
	t.Parallel()
	prev := analytics.Count([]analytics.Text{
		{ID: 1, Body: "Is the pool open today?"},
		{ID: 2, Body: "pool hours please"},
		{ID: 3, Body: "What time is breakfast"},
		{ID: 4, Body: "The pool is cold"},
	})
	cur := analytics.Count([]analytics.Text{
		{ID: 10, Body: "Wifi password?"},
		{ID: 11, Body: "the wifi password doesn't work"},
		{ID: 12, Body: "Wifi is down in room 12"},
		{ID: 13, Body: "pool open?"},
		{ID: 14, Body: "what's the wifi password"},
		{ID: 15, Body: "Is the pool heated"},
		{ID: 16, Body: "breakfast until when?"},
	})
	top := analytics.Top(cur, prev, 3)
	var got []string
	for _, t := range top {
		got = append(got, t.Term)
	}
	if want := []string{"wifi", "wifi password", "password"}; !slices.Equal(got, want) {
		t.Fatalf("top %q, want %q", got, want)
	}
	if top[0].Count != 4 || top[0].Previous != 0 || len(top[0].Examples) != 3 || top[0].Examples[0].ID != 10 {
		t.Fatalf("wifi: %+v", top[0])
	}
	rising := analytics.Rising(cur, prev, 10)
	got = nil
	for _, t := range rising {
		got = append(got, t.Term)
	}
	// pool held 3 texts before and 2 now; breakfast one each: neither rose.
	if want := []string{"wifi", "wifi password", "password"}; !slices.Equal(got, want) {
		t.Fatalf("rising %q, want %q", got, want)
	}
}

// TestTermsOncePerText: a long text's terms (past the 32 a text is first
// looked through for) are still each counted once, in order of first use.
func TestTermsOncePerText(t *testing.T) {
	var words []string
	for i := range 40 {
		words = append(words, fmt.Sprintf("w%c%c", 'a'+i%26, 'a'+i/26))
	}
	body := strings.Join(words, " ") + ". " + strings.Join(words, " ")
	got := analytics.Terms(body)
	var want []string
	for i, w := range words {
		want = append(want, w)
		if i+1 < len(words) {
			want = append(want, w+" "+words[i+1])
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d terms %q\nwant %d %q", len(got), got, len(want), want)
	}
}
