package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/store"
)

// Reconciler resolves messages left in sending, whose carrier call may or may
// not have reached the carrier (a timeout after the request left, a worker
// killed mid-call). It looks the text up at the carrier by sender, recipient,
// time and body. Found: the SID and status are recorded. Not found: the
// message is marked unknown and never resent; a conversational one also flags
// its conversation so a person decides whether to send it again.
type Reconciler struct {
	st      *store.Store
	carrier carrier.Carrier
	log     *slog.Logger
	// After is how long a message must have been sending before it is looked up.
	After time.Duration
}

// NewReconciler returns the reconciler.
func NewReconciler(st *store.Store, c carrier.Carrier, log *slog.Logger) *Reconciler {
	return &Reconciler{st: st, carrier: c, log: log, After: 2 * time.Minute}
}

const reconcileLockKey = 0x7061726c65790002

// RunOnce resolves what it can under the reconciler's advisory lock and
// returns how many messages it resolved.
func (r *Reconciler) RunOnce(ctx context.Context) (int, error) {
	n := 0
	_, err := r.st.WithJobLock(ctx, reconcileLockKey, func(ctx context.Context) error {
		stuck, err := r.st.StuckSending(ctx, time.Now().Add(-r.After), 200)
		if err != nil {
			return err
		}
		for _, m := range stuck {
			if err := r.resolve(ctx, m); err != nil {
				// One message the carrier cannot be asked about now must
				// not keep the others unresolved; it is tried next sweep.
				r.log.Error("reconcile failed for one message", "message_id", m.ID, "err", err)
				continue
			}
			n++
		}
		return nil
	})
	return n, err
}

func (r *Reconciler) resolve(ctx context.Context, m store.Stuck) error {
	found, err := r.carrier.Lookup(ctx, m.From, m.To, m.SendingAt.Add(-time.Minute))
	if err != nil {
		return fmt.Errorf("outbound: reconcile message %d: %w", m.ID, err)
	}
	for _, f := range found {
		// A zero date is one the carrier sent in a form we could not read:
		// the sender, recipient and body still identify the text.
		if f.Body != m.Body || (!f.DateCreated.IsZero() && f.DateCreated.Before(m.SendingAt.Add(-time.Minute))) {
			continue
		}
		taken, err := r.st.SIDTaken(ctx, f.SID)
		if err != nil {
			return err
		}
		if taken {
			continue // that one is another of our messages with the same text
		}
		if err := recordSent(ctx, r.st, []store.Sent{{MessageID: m.ID, SID: f.SID}}); err != nil {
			return err
		}
		if rank, ok := Ranks[f.Status]; ok {
			if _, err := r.st.ApplyStatus(ctx, store.StatusUpdate{SID: f.SID, MessageID: m.ID, Status: f.Status,
				Rank: rank, ErrorCode: f.ErrorCode}, Ranks); err != nil {
				return err
			}
		}
		r.log.Info("reconciled an ambiguous send: it had gone", "message_id", m.ID, "sid", f.SID, "status", f.Status)
		return nil
	}
	// Not at the carrier. It is never resent automatically.
	changed, err := r.st.FinishIf(ctx, m.ID, "unknown", "ambiguous_send_not_found", 0, "")
	if err != nil || !changed {
		return err // a status callback got there first: resolved
	}
	if m.Purpose != consent.Marketing && m.ConversationID != 0 {
		why := fmt.Sprintf("a reply may not have been delivered (message %d): the carrier has no record of it; decide whether to send it again", m.ID)
		if err := r.st.FlagConversation(ctx, m.ConversationID, why); err != nil {
			return err
		}
	}
	r.log.Warn("ambiguous send not found at the carrier; marked unknown", "message_id", m.ID, "purpose", m.Purpose)
	return nil
}

// Run reconciles every interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("reconcile failed", "err", err)
		}
	})
}
