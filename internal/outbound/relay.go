package outbound

import (
	"context"
	"log/slog"
	"time"

	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

// Enqueuer puts send tasks on the queue (queue.Client in production).
type Enqueuer interface {
	EnqueueSend(ctx context.Context, p queue.SendPayload, queueName string, at time.Time) error
}

// QueueWatch tells whether the queue lost its tasks (queue.Client).
type QueueWatch interface {
	Enqueuer
	QueueLost(ctx context.Context) (bool, error)
	SetQueueMarker(ctx context.Context) error
}

// Relay makes sure every queued or held message has a task: one whose enqueue
// never happened (a crash between commit and enqueue) and, when Redis lost its
// data, all of them. Redis loss is noticed by a marker key the relay keeps
// there: if the marker is gone, so is the queue.
type Relay struct {
	st  *store.Store
	q   QueueWatch
	log *slog.Logger
	// MinAge leaves a just-committed row to its sender's own enqueue.
	MinAge time.Duration
}

// NewRelay returns the relay.
func NewRelay(st *store.Store, q QueueWatch, log *slog.Logger) *Relay {
	return &Relay{st: st, q: q, log: log, MinAge: 3 * time.Second}
}

const relayLockKey = 0x7061726c65790001 // "parley" + 1

// RunOnce does one sweep under the relay's advisory lock and returns how many
// tasks it enqueued.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	n := 0
	_, err := r.st.WithJobLock(ctx, relayLockKey, func(ctx context.Context) error {
		lost, err := r.q.QueueLost(ctx)
		if err != nil {
			return err
		}
		minAge := r.MinAge
		if lost {
			minAge = 0
		}
		var after int64
		for {
			rows, err := r.st.UnenqueuedOutbound(ctx, minAge, lost, after, 500)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				break
			}
			ids := make([]int64, 0, len(rows))
			for _, u := range rows {
				if err := r.q.EnqueueSend(ctx, queue.SendPayload{MessageID: u.ID, From: u.From}, u.Queue, u.At); err != nil {
					return err
				}
				ids = append(ids, u.ID)
				after = u.ID
			}
			if err := r.st.MarkEnqueued(ctx, ids); err != nil {
				return err
			}
			n += len(ids)
		}
		if n > 0 {
			r.log.Info("relay enqueued outbox rows", "count", n, "queue_was_lost", lost)
		}
		if lost {
			// Only after a complete sweep: a sweep that fails half-way is
			// done again in full next time.
			return r.q.SetQueueMarker(ctx)
		}
		return nil
	})
	return n, err
}

// Run sweeps every interval until ctx ends.
func (r *Relay) Run(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("relay sweep failed", "err", err)
		}
	})
}

func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
