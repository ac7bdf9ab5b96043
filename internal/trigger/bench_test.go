package trigger

import (
	"fmt"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
)

// BenchmarkEvaluate100Rules is the cost of judging one event against 100
// rules of its type (each with a condition on the event's data and the
// contact's attributes), planning a run for each match: what the event
// path spends per event on rules, before any database work.
func BenchmarkEvaluate100Rules(b *testing.B) {
	rules := make([]*Rule, 100)
	for i := range rules {
		r := compile(b, fmt.Sprintf(`{"event_type": "flight_completed", "template": "How was {{.Event.flight}}?", "purpose": "conversational",
			"delay": {"days": 1, "at_local": "10:00"},
			"conditions": "data.cabin == \"business\" && attributes.tier in [\"gold\", \"platinum\"] && data.delay > %d"}`, i))
		rules[i] = &r
	}
	ny, _ := time.LoadLocation("America/New_York")
	data := map[string]any{"cabin": "business", "flight": "DA101", "delay": 50.0}
	attrs := map[string]any{"tier": "gold", "points": 12000.0}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	matched := 0
	var m vm.VM
	for i := 0; i < b.N; i++ {
		env := conditionEnv(data, attrs, "Ana Lima", "DA-1", "+12125550101", "America/New_York", "flight_completed")
		for _, r := range rules {
			if ok, _ := r.MatchesOn(&m, env); ok {
				_ = r.PlanRun(now, now, ny)
				matched++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	if matched != 50*b.N {
		b.Fatalf("matched %d, want 50 per event", matched)
	}
}
