package automation

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/routing"
	"github.com/parleyhq/parley/internal/store"
)

// Dispatcher assigns waiting conversations to agents, takes them back from
// agents who went away or did not answer in time, records missed response
// targets (once per wait, announced to the consoles) and closes quiet
// conversations, for every brand as its settings ask. A pass runs
// every second and at once when kicked (an inbound text, an agent coming
// online); a pass of a brand runs in one process at a time.
//
// Assignment is not done inside the inbound text's transaction: it needs a
// consistent view of every agent's load, which a per-text transaction
// could only get by locking the agents' rows and so serialising the
// brand's inbound texts; a pass right after the commit sees the same state
// without slowing a webhook.
type Dispatcher struct {
	st   *store.Store
	book *Book
	log  *slog.Logger
	// Now is the clock (tests move it).
	Now  func() time.Time
	kick chan struct{}
	// assigning: some brand assigns automatically, so a stored text is
	// worth a pass at once (set by each pass).
	assigning atomic.Bool
	// Hooks emits conversation.assigned and conversation.closed for what
	// the passes do by themselves (nil: none).
	Hooks     *hooks.Service
	lastClose time.Time // when quiet conversations were last closed

	mu sync.Mutex
	// active is the engagement of waiting customers, read once per
	// activeTTL: it changes over days, and passes run every second.
	active map[int64]knownActive
}

type knownActive struct {
	days int
	at   time.Time
}

// activeTTL is how long a customer's engagement is reused.
const activeTTL = time.Hour

// knownActiveDays returns the engagements read less than activeTTL ago,
// and forgets the older ones.
func (d *Dispatcher) knownActiveDays(now time.Time) map[int64]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[int64]int, len(d.active))
	for id, k := range d.active {
		if now.Sub(k.at) >= activeTTL || k.at.After(now) {
			delete(d.active, id)
			continue
		}
		out[id] = k.days
	}
	return out
}

func (d *Dispatcher) rememberActiveDays(read map[int64]int, now time.Time) {
	if len(read) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.active == nil {
		d.active = map[int64]knownActive{}
	}
	for id, n := range read {
		d.active[id] = knownActive{days: n, at: now}
	}
}

// closeEvery is how often quiet conversations are looked for: a quiet
// period is minutes to days long, and the look scans a brand's open ones.
const closeEvery = 30 * time.Second

// NewDispatcher returns a dispatcher over the book's settings.
func NewDispatcher(st *store.Store, book *Book, log *slog.Logger) *Dispatcher {
	return &Dispatcher{st: st, book: book, log: log, Now: time.Now, kick: make(chan struct{}, 1)}
}

// Kick asks for a pass now.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run passes every `every` and on each kick until ctx is done.
func (d *Dispatcher) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
			if !d.assigning.Load() {
				continue // nothing to assign at once; breaches wait for the tick
			}
		}
		d.Pass(ctx)
		// Kicks that came during the pass are served by one more pass, after
		// a short pause: under a stream of texts, a few passes a second.
		select {
		case <-ctx.Done():
			return
		case <-time.After(kickGap):
		}
	}
}

// breachesPerPass bounds the missed targets one pass records (a backlog,
// after a restart, is worked off over a few passes).
const breachesPerPass = 100

// kickGap is the least time between two passes.
const kickGap = 100 * time.Millisecond

// waitingPerPass bounds the conversations one pass of a brand considers.
const waitingPerPass = 500

// Pass runs one pass over every brand and returns the conversations it
// changed.
func (d *Dispatcher) Pass(ctx context.Context) []int64 {
	brands, err := d.book.All(ctx)
	if err != nil && len(brands) == 0 {
		d.log.Warn("dispatch: settings not loaded", "err", err)
		return nil
	}
	now := d.Now()
	var changed []int64
	assigning := false
	defer func() { d.assigning.Store(assigning) }()
	var known map[int64]int // engagements already read (conversation ids are unique across brands)
	closing := now.Sub(d.lastClose) >= closeEvery
	if closing {
		d.lastClose = now
	}
	for id, b := range brands {
		if b.Doc.Assignment != routing.AssignManual {
			assigning = true
		}
		doc := b.Doc
		if closing && doc.AutoCloseAfterSeconds > 0 {
			ids, err := d.st.AutoClose(ctx, id, now.Add(-time.Duration(doc.AutoCloseAfterSeconds)*time.Second))
			if err != nil {
				d.log.Warn("dispatch: auto-close failed", "brand", id, "err", err)
			}
			changed = append(changed, ids...)
			d.Hooks.AutoClosed(ctx, ids)
		}
		scope := store.DispatchScope{Assigning: doc.Assignment != routing.AssignManual, Limit: waitingPerPass}
		if scope.Assigning {
			if known == nil {
				known = d.knownActiveDays(now)
			}
			scope.ActiveDays, scope.ActiveSince = known, now.Add(-routing.EngagementWindow)
		}
		if !scope.Assigning {
			// Only breaches to record: waits younger than the shortest
			// target cannot have missed it (business hours only delay a due time).
			shortest := b.Targets.FirstResponse
			if n := b.Targets.NextResponse; n > 0 && n < shortest {
				shortest = n
			}
			if shortest <= 0 {
				continue
			}
			scope.OlderThan = now.Add(-shortest)
			scope.Limit = breachesPerPass
		}
		var plan store.Dispatch
		ran, ids, err := d.st.DispatchBrand(ctx, id, now, scope, func(v store.DispatchView) store.Dispatch {
			d.rememberActiveDays(v.ReadActiveDays, now)
			plan = Plan(v, b, now)
			return plan
		})
		if err != nil {
			d.log.Warn("dispatch: pass failed", "brand", id, "err", err)
			continue
		}
		if ran {
			d.Hooks.Dispatched(ctx, plan)
		}
		changed = append(changed, ids...)
	}
	return changed
}

// Plan is the pass's decision, from the view and the brand's settings: a
// pure function of its arguments (routing decides; this translates).
func Plan(v store.DispatchView, b routing.Brand, now time.Time) store.Dispatch {
	var d store.Dispatch
	doc := b.Doc
	overdue := func(since time.Time, answered bool) bool {
		due, ok := routing.Due(b.Targets, b.Hours, since, answered)
		return ok && !now.Before(due)
	}
	for _, c := range v.Assigned {
		if !c.Breached && len(d.Breached) < breachesPerPass && overdue(c.WaitingSince, c.Answered) {
			d.Breached = append(d.Breached, c.ID)
		}
	}
	after := time.Duration(doc.ReassignAfterSeconds) * time.Second
	taken := map[int64]int64{} // conversation → the agent it was taken from for not answering
	agents := make([]routing.Agent, len(v.Agents))
	idx := map[int64]int{}
	for i, a := range v.Agents {
		agents[i] = routing.Agent{ID: a.ID, Email: a.Email, Online: a.Online, Open: a.Open, Capacity: a.Capacity, LastAssigned: a.LastAssigned}
		idx[a.ID] = i
	}
	var q []routing.Waiting
	if doc.Assignment != routing.AssignManual {
		for _, c := range v.Assigned {
			why := routing.ShouldReassign(routing.Assigned{ConversationID: c.ID, AgentOnline: c.AgentOnline,
				WaitingSince: c.WaitingSince, AssignedAt: c.AssignedAt}, after, now)
			if why == "" {
				continue
			}
			d.Unassign = append(d.Unassign, store.Reassignment{ConversationID: c.ID, From: c.AssigneeID, Reason: why})
			if i, ok := idx[c.AssigneeID]; ok {
				agents[i].Open--
			}
			if c.AgentOnline {
				taken[c.ID] = c.AssigneeID
			}
			q = append(q, routing.Waiting{ConversationID: c.ID, WaitingSince: c.WaitingSince, Exclude: taken[c.ID]})
		}
	}
	for _, w := range v.Waiting {
		late := overdue(w.WaitingSince, w.Answered)
		if late && !w.Breached && len(d.Breached) < breachesPerPass {
			d.Breached = append(d.Breached, w.ID)
		}
		prio := routing.PriorityOf(doc.TierPriority, w.Tier, w.Followers, w.ActiveDays)
		if late {
			prio += routing.BreachedPriority // a missed target goes to the head of the queue
		}
		q = append(q, routing.Waiting{ConversationID: w.ID, WaitingSince: w.WaitingSince, Priority: prio, LastAnsweredBy: w.LastAnsweredBy})
	}
	for _, a := range routing.Assign(doc.Assignment, q, agents, now) {
		d.Assign = append(d.Assign, store.AutoAssignment{ConversationID: a.ConversationID, AgentID: a.AgentID, Reason: a.Reason})
	}
	return d
}
