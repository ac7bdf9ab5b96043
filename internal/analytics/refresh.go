package analytics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// refreshLock is the advisory lock of the rollup refresh: one instance
// folds at a time.
const refreshLock = 7_300_027

// Refresher keeps the analytics rollups current: every Every, one
// instance folds the slots and waits that closed since the last pass
// (store.RefreshAnalytics). What it has not folded yet is read raw, so a
// slow or stopped refresher makes pages slower, never wrong.
type Refresher struct {
	st    *store.Store
	log   *slog.Logger
	Every time.Duration
	mu    sync.Mutex
	last  time.Time
}

// NewRefresher returns the refresher (every 30 s).
func NewRefresher(st *store.Store, log *slog.Logger) *Refresher {
	return &Refresher{st: st, log: log, Every: 30 * time.Second}
}

// MaybeRefresh refreshes when Every has passed since this process last did.
func (r *Refresher) MaybeRefresh(ctx context.Context) {
	r.mu.Lock()
	if !r.last.IsZero() && time.Since(r.last) < r.Every {
		r.mu.Unlock()
		return
	}
	r.last = time.Now()
	r.mu.Unlock()
	if _, err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
		r.log.Warn("analytics refresh failed; retrying later", "err", err)
	}
}

// Refresh runs one pass now if no other instance is running one; ran
// says whether this one did.
func (r *Refresher) Refresh(ctx context.Context) (ran bool, err error) {
	return r.st.WithJobLock(ctx, refreshLock, func(ctx context.Context) error {
		start := time.Now()
		res, err := r.st.RefreshAnalytics(ctx, Waits, Terms)
		if err == nil && (res.Changed > 0 || res.Conversations > 0 || res.To.After(res.From)) {
			r.log.Debug("analytics folded", "from", res.From, "to", res.To, "changed", res.Changed,
				"conversations", res.Conversations, "took", time.Since(start))
		}
		return err
	})
}

// Waits are the waits of conversations' whole histories (events ordered
// by conversation, time and kind), as the rollups store them.
func Waits(evs []store.ConversationEvent) []store.Wait {
	events := make([]Event, len(evs))
	for i, e := range evs {
		events[i] = Event{Conversation: e.ConversationID, Kind: EventKind(e.Kind), At: e.At, Actor: e.Actor}
	}
	eps := Episodes(events)
	out := make([]store.Wait, len(eps))
	for i, ep := range eps {
		out[i] = waitOf(ep)
	}
	return out
}

// waitOf is ep as the rollup stores it; episodeOf the reverse.
func waitOf(ep Episode) store.Wait {
	w := store.Wait{ConversationID: ep.Conversation, Start: ep.Start, FirstResponse: ep.FirstResponse, Resolved: ep.Resolved,
		Responder: ep.Responder, AutoReply: ep.AutoReply, Pending: ep.Pending, Next: ep.Next}
	return w
}

func episodeOf(w store.Wait) Episode {
	ep := Episode{Conversation: w.ConversationID, Start: w.Start, FirstResponse: w.FirstResponse, Resolved: w.Resolved,
		Responder: w.Responder, AutoReply: w.AutoReply, Pending: w.Pending, Next: w.Next}
	return ep
}
