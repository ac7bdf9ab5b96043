package analytics

import "testing"

// TestRisingBeyondTheSlack: a term whose previous count may be short (a
// rollup pruned it from days of the period before) rises only by more
// than that slack; an exact count rises as before.
func TestRisingBeyondTheSlack(t *testing.T) {
	cur := Counts{n: map[string]int{"outage": 40, "refund": 30, "gate": 12}}
	prev := Counts{n: map[string]int{"outage": 0, "refund": 20, "gate": 0}, slack: map[string]int{"outage": 10, "gate": 15}}
	got := Rising(cur, prev, 10)
	if len(got) != 2 || got[0].Term != "outage" || got[1].Term != "refund" {
		t.Fatalf("rising %+v, want outage (40 over at most 10) then refund (30 over 20); gate (12 over up to 15) is no rise", got)
	}
	if got[0].Previous != 0 || got[0].Slack != 10 {
		t.Fatalf("outage shows previous %d slack %d, want the stored 0 and its slack 10", got[0].Previous, got[0].Slack)
	}
}
