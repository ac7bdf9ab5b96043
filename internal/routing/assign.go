package routing

import (
	"fmt"
	"slices"
	"time"
)

// Agent is a person who can take conversations of a brand, as assignment
// sees them.
type Agent struct {
	ID           int64
	Email        string
	Online       bool
	Open         int // open conversations assigned now
	Capacity     int // at most this many open conversations (0: never assigned automatically)
	LastAssigned time.Time
}

// Waiting is an open, unassigned conversation waiting for a person.
type Waiting struct {
	ConversationID int64
	WaitingSince   time.Time
	Priority       int   // from the contact's tier (Settings' tier_priority)
	LastAnsweredBy int64 // the agent who last answered this customer, 0 for none
	Exclude        int64 // an agent it was just taken from (not answered in time)
}

// Assignment gives a conversation to an agent, with why.
type Assignment struct {
	ConversationID, AgentID int64
	Reason                  string
}

// Order sorts waiting conversations as they are served: the highest
// priority first, then the longest waiting.
func Order(q []Waiting) {
	slices.SortStableFunc(q, func(a, b Waiting) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		return a.WaitingSince.Compare(b.WaitingSince)
	})
}

// Assign hands waiting conversations to agents by the brand's strategy:
// sticky first (the agent who last answered this customer, if online and
// under capacity), then round robin (the agent assigned least recently) or
// least busy (the fewest open conversations, then least recently
// assigned), among online agents under capacity. What finds no agent keeps
// waiting. now stamps the agents' last assignment as the pass goes on.
func Assign(strategy string, q []Waiting, agents []Agent, now time.Time) []Assignment {
	if strategy != AssignStickyRoundRobin && strategy != AssignStickyLeastBusy {
		return nil
	}
	pool := slices.Clone(agents)
	free := func(a *Agent) bool { return a.Online && a.Open < a.Capacity }
	q = slices.Clone(q)
	Order(q)
	var out []Assignment
	for _, w := range q {
		var pick *Agent
		reason := ""
		for i := range pool {
			if a := &pool[i]; a.ID == w.LastAnsweredBy && a.ID != w.Exclude && free(a) {
				pick, reason = a, "sticky: last answered this customer"
			}
		}
		if pick == nil {
			for i := range pool {
				a := &pool[i]
				if !free(a) || a.ID == w.Exclude {
					continue
				}
				if pick == nil || better(strategy, a, pick) {
					pick = a
				}
			}
			if pick != nil {
				reason = "round robin"
				if strategy == AssignStickyLeastBusy {
					reason = fmt.Sprintf("least busy (%d open)", pick.Open)
				}
			}
		}
		if pick == nil {
			continue // waits until capacity frees or an agent comes online
		}
		pick.Open++
		pick.LastAssigned = now
		out = append(out, Assignment{ConversationID: w.ConversationID, AgentID: pick.ID, Reason: reason})
	}
	return out
}

func better(strategy string, a, b *Agent) bool {
	if strategy == AssignStickyLeastBusy && a.Open != b.Open {
		return a.Open < b.Open
	}
	if !a.LastAssigned.Equal(b.LastAssigned) {
		return a.LastAssigned.Before(b.LastAssigned)
	}
	return a.ID < b.ID
}

// Assigned is an open conversation that has an assignee and waits for an
// answer.
type Assigned struct {
	ConversationID int64
	AgentOnline    bool
	WaitingSince   time.Time
	AssignedAt     time.Time
}

// ShouldReassign says why an assigned, waiting conversation must go to
// someone else ("": it stays): its agent went away or offline, or has not
// answered within after (0: never) of the later of the wait starting and
// the assignment.
func ShouldReassign(c Assigned, after time.Duration, now time.Time) string {
	if !c.AgentOnline {
		return "the assignee is away"
	}
	if after <= 0 {
		return ""
	}
	since := c.WaitingSince
	if c.AssignedAt.After(since) {
		since = c.AssignedAt
	}
	if now.Sub(since) >= after {
		return fmt.Sprintf("not answered within %s", after)
	}
	return ""
}

// BreachedPriority is added to a waiting conversation whose response target
// passed: it goes before every tier.
const BreachedPriority = 1000

// PriorityOf is a contact's priority: the brand's rank for its loyalty tier
// (the tier attribute), plus its influence, one step per order of magnitude
// of followers from 10,000 (an imported followers attribute): 10k +1, 100k
// +2, a million or more +3; plus its engagement, the days it texted in the
// last 90: 3 days or more +1, 10 or more +2.
func PriorityOf(tierPriority map[string]int, tier string, followers float64, activeDays int) int {
	p := tierPriority[tier]
	for _, step := range []float64{1e4, 1e5, 1e6} {
		if followers >= step {
			p++
		}
	}
	for _, step := range []int{EngagedDays, VeryEngagedDays} {
		if activeDays >= step {
			p++
		}
	}
	return p
}

// AttributePriority is PriorityOf from a contact's attributes alone (its
// tier and followers), without engagement: what the inbox flags.
func AttributePriority(tierPriority map[string]int, attrs map[string]any) int {
	tier, _ := attrs["tier"].(string)
	followers, _ := attrs["followers"].(float64)
	return PriorityOf(tierPriority, tier, followers, 0)
}

// The engagement steps of PriorityOf: days with a text from the customer in
// the last EngagementWindow.
const (
	EngagedDays      = 3
	VeryEngagedDays  = 10
	EngagementWindow = 90 * 24 * time.Hour
)
