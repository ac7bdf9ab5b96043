package routing

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/personalize"
)

// benchSettings is a brand with 50 rules of every kind and a weekly
// schedule with split shifts and holidays.
func benchSettings(b *testing.B) Settings {
	b.Helper()
	var rules []Rule
	kinds := []string{MatchExact, MatchFirstWord, MatchContains, MatchRegex}
	for i := 0; i < 50; i++ {
		pattern := fmt.Sprintf("keyword%d", i)
		if kinds[i%4] == MatchRegex {
			pattern = fmt.Sprintf(`^(order|parcel) ?%d\b`, i)
		}
		r, err := Compile(Rule{ID: int64(i + 1), Position: i + 1, Match: kinds[i%4], Pattern: pattern,
			Reply: `Hi {{default "there" .FirstName}}, about ` + pattern})
		if err != nil {
			b.Fatal(err)
		}
		rules = append(rules, r)
	}
	loc, _ := time.LoadLocation("America/New_York")
	h := Hours{Set: true, Loc: loc, Holidays: map[string]Holiday{"2026-12-25": {Date: "2026-12-25"}}}
	for d := time.Monday; d <= time.Friday; d++ {
		h.Week[d] = []Interval{{9 * 60, 12 * 60}, {13 * 60, 18 * 60}}
	}
	return Settings{Rules: rules, Hours: h}
}

// BenchmarkNeedsContext is what every inbound text pays: no rule matches
// and the brand is open.
func BenchmarkNeedsContext(b *testing.B) {
	s := benchSettings(b)
	at := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC) // 10:00 in New York
	body := "Hi, my flight was delayed and I missed the connection, can someone help me rebook?"
	b.ReportAllocs()
	for b.Loop() {
		if NeedsContext(s, body, at) {
			b.Fatal("matched")
		}
	}
}

// BenchmarkDecide is the whole decision for a text that matches the last
// rule, with history to check.
func BenchmarkDecide(b *testing.B) {
	s := benchSettings(b)
	at := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	in := Input{Body: "Keyword49 please", From: "+12125550100", At: at,
		Contact: personalize.NewData("Ana López", "+12125550100", "L-1", map[string]any{"tier": "gold"}),
		History: []Automated{{At: at.Add(-20 * time.Minute), Body: "x"}, {At: at.Add(-40 * time.Minute), Body: "y"}}}
	b.ReportAllocs()
	for b.Loop() {
		if d := Decide(in, s); d.Reply == "" {
			b.Fatalf("no reply: %+v", d)
		}
	}
}

// BenchmarkAssign is one dispatcher pass's decision for a brand with 200
// agents and 100 waiting conversations (sticky round robin).
func BenchmarkAssign(b *testing.B) {
	t0 := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	agents := make([]Agent, 200)
	for i := range agents {
		agents[i] = Agent{ID: int64(i + 1), Online: i%3 != 0, Open: i % 7, Capacity: 8, LastAssigned: t0.Add(-time.Duration(i) * time.Minute)}
	}
	q := make([]Waiting, 100)
	for i := range q {
		q[i] = Waiting{ConversationID: int64(i + 1), WaitingSince: t0.Add(-time.Duration(i) * time.Second), Priority: i % 3, LastAnsweredBy: int64(i*7%200 + 1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := Assign(AssignStickyRoundRobin, q, agents, t0); len(got) != 100 {
			b.Fatalf("%d assigned", len(got))
		}
	}
}
