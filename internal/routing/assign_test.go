package routing

import (
	"reflect"
	"testing"
	"time"
)

func TestAssign(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	agents := func() []Agent {
		return []Agent{
			{ID: 1, Online: true, Open: 2, Capacity: 3, LastAssigned: t0.Add(-time.Minute)},
			{ID: 2, Online: true, Open: 0, Capacity: 3, LastAssigned: t0.Add(-time.Hour)},
			{ID: 3, Online: false, Open: 0, Capacity: 3}, // away: never picked, sticky or not
			{ID: 4, Online: true, Open: 1, Capacity: 1},  // full
		}
	}
	w := func(id int64, mins int, prio int, last int64) Waiting {
		return Waiting{ConversationID: id, WaitingSince: t0.Add(-time.Duration(mins) * time.Minute), Priority: prio, LastAnsweredBy: last}
	}
	cases := []struct {
		name     string
		strategy string
		q        []Waiting
		want     []Assignment
	}{
		{"manual assigns nothing", AssignManual, []Waiting{w(10, 5, 0, 0)}, nil},
		{"sticky to the agent who last answered", AssignStickyRoundRobin, []Waiting{w(10, 5, 0, 1)},
			[]Assignment{{10, 1, "sticky: last answered this customer"}}},
		{"not sticky to an away agent", AssignStickyRoundRobin, []Waiting{w(10, 5, 0, 3)},
			[]Assignment{{10, 2, "round robin"}}},
		{"not sticky to a full agent", AssignStickyRoundRobin, []Waiting{w(10, 5, 0, 4)},
			[]Assignment{{10, 2, "round robin"}}},
		{"round robin takes turns", AssignStickyRoundRobin, []Waiting{w(10, 9, 0, 0), w(11, 8, 0, 0), w(12, 7, 0, 0)},
			[]Assignment{{10, 2, "round robin"}, {11, 1, "round robin"}, {12, 2, "round robin"}}},
		{"least busy fills the emptiest", AssignStickyLeastBusy, []Waiting{w(10, 9, 0, 0), w(11, 8, 0, 0), w(12, 7, 0, 0)},
			[]Assignment{{10, 2, "least busy (0 open)"}, {11, 2, "least busy (1 open)"}, {12, 1, "least busy (2 open)"}}},
		{"capacity runs out: the rest waits", AssignStickyLeastBusy,
			[]Waiting{w(10, 9, 0, 0), w(11, 8, 0, 0), w(12, 7, 0, 0), w(13, 6, 0, 0), w(14, 5, 0, 0)},
			[]Assignment{{10, 2, "least busy (0 open)"}, {11, 2, "least busy (1 open)"}, {12, 1, "least busy (2 open)"}, {13, 2, "least busy (2 open)"}}},
		{"power users first, then the longest wait", AssignStickyRoundRobin, []Waiting{w(10, 30, 0, 0), w(11, 1, 2, 0)},
			[]Assignment{{11, 2, "round robin"}, {10, 1, "round robin"}}},
	}
	for _, c := range cases {
		if got := Assign(c.strategy, c.q, agents(), t0); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.name, got, c.want)
		}
	}
	// A conversation taken from an agent who did not answer goes to another.
	q := []Waiting{{ConversationID: 10, WaitingSince: t0, LastAnsweredBy: 2, Exclude: 2}}
	if got := Assign(AssignStickyRoundRobin, q, agents(), t0); len(got) != 1 || got[0].AgentID == 2 {
		t.Errorf("reassigned to the agent it was taken from: %v", got)
	}
	// No one online: everything waits.
	if got := Assign(AssignStickyRoundRobin, []Waiting{w(10, 1, 0, 0)}, []Agent{{ID: 1, Capacity: 5}}, t0); got != nil {
		t.Errorf("assigned with no one online: %v", got)
	}
}

func TestShouldReassign(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		c     Assigned
		after time.Duration
		now   time.Time
		want  string
	}{
		{Assigned{AgentOnline: false, WaitingSince: t0}, 0, t0, "the assignee is away"},
		{Assigned{AgentOnline: true, WaitingSince: t0}, 0, t0.Add(time.Hour), ""},
		{Assigned{AgentOnline: true, WaitingSince: t0}, 10 * time.Minute, t0.Add(9 * time.Minute), ""},
		{Assigned{AgentOnline: true, WaitingSince: t0}, 10 * time.Minute, t0.Add(10 * time.Minute), "not answered within 10m0s"},
		// Assigned late: the clock starts at the assignment.
		{Assigned{AgentOnline: true, WaitingSince: t0, AssignedAt: t0.Add(8 * time.Minute)}, 10 * time.Minute, t0.Add(12 * time.Minute), ""},
	}
	for i, c := range cases {
		if got := ShouldReassign(c.c, c.after, c.now); got != c.want {
			t.Errorf("case %d: %q, want %q", i, got, c.want)
		}
	}
}

func TestAttributePriority(t *testing.T) {
	t.Parallel()
	tiers := map[string]int{"gold": 2}
	for _, c := range []struct {
		attrs map[string]any
		want  int
	}{
		{nil, 0}, {map[string]any{"tier": "gold"}, 2}, {map[string]any{"tier": 7, "followers": "many"}, 0},
		{map[string]any{"tier": "gold", "followers": 150000.0}, 4},
	} {
		if got := AttributePriority(tiers, c.attrs); got != c.want {
			t.Errorf("%v: %d, want %d", c.attrs, got, c.want)
		}
	}
}

func TestPriorityOf(t *testing.T) {
	t.Parallel()
	tiers := map[string]int{"gold": 2, "silver": 1}
	for _, c := range []struct {
		tier      string
		followers float64
		days      int
		want      int
	}{
		{"gold", 0, 0, 2}, {"silver", 9999, 0, 1}, {"", 10000, 0, 1}, {"blue", 250000, 0, 2}, {"gold", 3e6, 0, 5},
		{"", 0, 2, 0}, {"", 0, 3, 1}, {"", 0, 9, 1}, {"", 0, 10, 2}, {"silver", 1e5, 40, 5},
	} {
		if got := PriorityOf(tiers, c.tier, c.followers, c.days); got != c.want {
			t.Errorf("%s with %v followers, %d active days: %d, want %d", c.tier, c.followers, c.days, got, c.want)
		}
	}
}
