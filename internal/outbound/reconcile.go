package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

// TaskEnsurer gives a message a live send task unless it has one
// (queue.Client).
type TaskEnsurer interface {
	EnsureSend(ctx context.Context, p queue.SendPayload, queueName string, at time.Time) (enqueued bool, err error)
}

// Reconciler resolves messages left in sending, whose carrier call may or may
// not have reached the carrier (a 5xx, a timeout after the request left, a
// worker killed mid-call). It looks the text up at the carrier by sender,
// recipient, time and body, once that attempt can no longer create it there:
//
//   - found: the SID and status are recorded;
//   - positively not found: the message goes back to queued with a new
//     task, and is sent again (consent and quiet hours are checked again);
//   - the carrier cannot be asked conclusively (lookups failing, or more
//     texts to that phone than a lookup reads) and the attempt is older than
//     GiveUpAfter: unknown, never resent; a conversational one flags its
//     conversation so that a person decides.
//
// It only changes a row still in the claim it read (status sending, same
// sending_at), and measures every age on the database's clock.
type Reconciler struct {
	st      *store.Store
	carrier carrier.Carrier
	q       TaskEnsurer
	log     *slog.Logger
	// AmbiguousAfter is how long after the sender recorded an ambiguous
	// outcome the text is looked up: the call is over, this leaves the
	// carrier time to finish a create it was still working on when it
	// answered 5xx or we gave up waiting, and to list it.
	AmbiguousAfter time.Duration
	// After is how long a message with no recorded outcome (its worker died,
	// or could not record the outcome) must have been sending: long enough
	// that its carrier call has certainly ended — the call starts at most
	// MaxClaimAge after the claim and lasts at most the send timeout (15 s)
	// — plus AmbiguousAfter.
	After time.Duration
	// GiveUpAfter is how old an attempt the carrier still cannot be asked
	// about conclusively may get before it is marked unknown.
	GiveUpAfter time.Duration
	// Batch bounds the lookups of one sweep.
	Batch int

	cursor int64 // keyset position between sweeps
}

// DefaultAmbiguousAfter is Reconciler.AmbiguousAfter's default.
const DefaultAmbiguousAfter = 30 * time.Second

// NewReconciler returns the reconciler. q enqueues the send task of a text it
// puts back to queued.
func NewReconciler(st *store.Store, c carrier.Carrier, q TaskEnsurer, log *slog.Logger) *Reconciler {
	return &Reconciler{st: st, carrier: c, q: q, log: log,
		AmbiguousAfter: DefaultAmbiguousAfter,
		After:          MaxClaimAge + 15*time.Second + DefaultAmbiguousAfter,
		GiveUpAfter:    24 * time.Hour,
		Batch:          200,
	}
}

const reconcileLockKey = 0x7061726c65790002

// RunOnce resolves what it can under the reconciler's advisory lock and
// returns how many messages it resolved. A sweep looks at Batch messages at
// most, continuing where the previous one stopped, so that messages the
// carrier cannot be asked about now do not keep the others waiting.
func (r *Reconciler) RunOnce(ctx context.Context) (int, error) {
	n := 0
	_, err := r.st.WithJobLock(ctx, reconcileLockKey, func(ctx context.Context) error {
		stuck, err := r.st.StuckSending(ctx, store.StuckQuery{After: r.After, AmbiguousAfter: r.AmbiguousAfter,
			Expired: r.GiveUpAfter, AfterID: r.cursor, Limit: r.Batch})
		if err != nil {
			return err
		}
		if len(stuck) < r.Batch {
			r.cursor = 0 // the end: the next sweep starts again from the first
		} else {
			r.cursor = stuck[len(stuck)-1].ID
		}
		for _, m := range stuck {
			done, err := r.resolve(ctx, m)
			if err != nil {
				// One message the carrier cannot be asked about now must
				// not keep the others unresolved; it is tried next sweep.
				r.log.Error("reconcile failed for one message", "message_id", m.ID, "err", err)
				continue
			}
			if done {
				n++
			}
		}
		return nil
	})
	return n, err
}

// resolve looks m up and acts on the answer; done is false when the row had
// changed meanwhile (a callback, another reconciler) or the lookup was not
// conclusive yet.
func (r *Reconciler) resolve(ctx context.Context, m store.Stuck) (done bool, err error) {
	since := m.SendingAt.Add(-time.Minute)
	found, lerr := r.carrier.Lookup(ctx, m.From, m.To, since)
	if lerr != nil && !errors.Is(lerr, carrier.ErrIncomplete) {
		found = nil
	}
	for _, f := range found {
		// A zero date is one the carrier sent in a form we could not read:
		// the sender, recipient and body still identify the text.
		if f.Body != m.Body || (!f.DateCreated.IsZero() && f.DateCreated.Before(since)) {
			continue
		}
		taken, err := r.st.SIDTaken(ctx, f.SID)
		if err != nil {
			return false, err
		}
		if taken {
			continue // that one is another of our messages with the same text
		}
		return r.found(ctx, m, f)
	}
	if lerr != nil {
		// Not conclusive: the lookup failed, or could not read far enough
		// back. Asked again next sweep, until the attempt is too old.
		if !m.Expired {
			return false, fmt.Errorf("outbound: reconcile message %d: %w", m.ID, lerr)
		}
		return r.giveUp(ctx, m, lerr)
	}
	// The carrier positively has no such text: it did not go. Send it again.
	changed, err := r.st.RequeueIf(ctx, m.ID, m.SendingAt, "not_found_at_carrier")
	if err != nil || !changed {
		return false, err // a status callback or another sweep got there first
	}
	c, err := r.st.LoadForSend(ctx, m.ID)
	if err != nil {
		return true, err // queued without enqueued_at: the relay enqueues it
	}
	if _, err := r.q.EnsureSend(ctx, queue.SendPayload{MessageID: m.ID, From: c.From}, c.Queue, time.Time{}); err != nil {
		return true, err // likewise
	}
	if err := r.st.MarkEnqueued(ctx, []int64{m.ID}); err != nil {
		return true, err // the relay checks it again: harmless
	}
	r.log.Info("ambiguous send not found at the carrier; queued again", "message_id", m.ID)
	return true, nil
}

func (r *Reconciler) found(ctx context.Context, m store.Stuck, f carrier.Found) (bool, error) {
	changed, pending, err := r.st.ResolveSent(ctx, m.ID, m.SendingAt, f.SID)
	if err != nil {
		return false, err
	}
	for _, u := range pending {
		u.Rank = Ranks[u.Status]
		if _, err := r.st.ApplyStatus(ctx, u, Ranks); err != nil {
			return changed, err
		}
	}
	if !changed {
		return false, nil
	}
	if rank, ok := Ranks[f.Status]; ok {
		if _, err := r.st.ApplyStatus(ctx, store.StatusUpdate{SID: f.SID, MessageID: m.ID, Status: f.Status,
			Rank: rank, ErrorCode: f.ErrorCode}, Ranks); err != nil {
			return true, err
		}
	}
	r.log.Info("reconciled an ambiguous send: it had gone", "message_id", m.ID, "sid", f.SID, "status", f.Status)
	return true, nil
}

func (r *Reconciler) giveUp(ctx context.Context, m store.Stuck, why error) (bool, error) {
	changed, err := r.st.GiveUpIf(ctx, m.ID, m.SendingAt, "carrier_lookup_inconclusive")
	if err != nil || !changed {
		return false, err
	}
	if m.Purpose != consent.Marketing && m.ConversationID != 0 {
		msg := fmt.Sprintf("a reply may not have been delivered (message %d): the carrier could not tell whether it has it; decide whether to send it again", m.ID)
		if err := r.st.FlagConversation(ctx, m.ConversationID, msg); err != nil {
			return true, err
		}
	}
	r.log.Warn("ambiguous send could not be resolved at the carrier; marked unknown", "message_id", m.ID,
		"purpose", m.Purpose, "err", why)
	return true, nil
}

// Run reconciles every interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("reconcile failed", "err", err)
		}
	})
}
