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
	EnqueueBatch(ctx context.Context, p queue.BatchPayload, queueName string, at time.Time) (string, error)
}

// QueueWatch tells whether the queue lost its tasks, and whether one
// message still has its task (queue.Client).
type QueueWatch interface {
	Enqueuer
	TaskEnsurer
	QueueLost(ctx context.Context) (bool, error)
	SetQueueMarker(ctx context.Context) error
	// ReviveSend is EnsureSend for a message long overdue, where an active
	// task is a lost one.
	ReviveSend(ctx context.Context, p queue.SendPayload, queueName string, at time.Time) (bool, error)
}

// Relay makes sure every queued or held message has a task: one whose enqueue
// never happened (a crash between commit and enqueue); when Redis lost its
// data, all of them (noticed by a marker key the relay keeps there: if the
// marker is gone, so is the queue); and one still waiting more than Overdue
// past its time, whatever became of its task — archived after its retries, a
// retry asynq no longer has, lost in a failover. Those are checked one by one
// against the queue and given a new task when theirs is not live.
type Relay struct {
	st  *store.Store
	q   QueueWatch
	log *slog.Logger
	// MinAge leaves a just-committed row to its sender's own enqueue.
	MinAge time.Duration
	// Overdue is how long past its time (held_until, send_at or created_at)
	// a waiting message must be before its task is checked.
	Overdue time.Duration
	// CheckBatch bounds the waiting rows one sweep reads; a longer backlog is
	// checked over successive sweeps.
	CheckBatch int

	cursor int64 // keyset position of the overdue check between sweeps
}

// NewRelay returns the relay.
func NewRelay(st *store.Store, q QueueWatch, log *slog.Logger) *Relay {
	return &Relay{st: st, q: q, log: log, MinAge: 3 * time.Second, Overdue: time.Minute, CheckBatch: 500}
}

const relayLockKey = 0x7061726c65790001 // "parley" + 1

// RunOnce does one sweep under the relay's advisory lock and returns how many
// tasks it enqueued (rows that turned out to have a live task are not counted).
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
			var single []int64 // given a task of their own now
			for _, u := range rows {
				// Not a blind enqueue: a task left archived under the
				// message's TaskID would make it a no-op.
				enqueued, err := r.q.EnsureSend(ctx, queue.SendPayload{MessageID: u.ID, From: u.From, TaskKey: u.TaskKey}, u.Queue, u.At)
				if err != nil {
					return err
				}
				if enqueued {
					n++
					single = append(single, u.ID)
				} else {
					ids = append(ids, u.ID)
				}
				after = u.ID
			}
			if err := r.st.MarkEnqueued(ctx, ids); err != nil {
				return err
			}
			if err := r.st.MarkEnqueuedIn(ctx, single, ""); err != nil {
				return err
			}
		}
		if n > 0 {
			r.log.Info("relay enqueued outbox rows", "count", n, "queue_was_lost", lost)
		}
		if lost {
			// Only after a complete sweep: a sweep that fails half-way is
			// done again in full next time.
			return r.q.SetQueueMarker(ctx)
		}
		revived, err := r.revive(ctx)
		n += revived
		return err
	})
	return n, err
}

// revive checks the tasks of the next CheckBatch waiting rows that are
// overdue, and enqueues a task for each whose own is not live.
func (r *Relay) revive(ctx context.Context) (int, error) {
	rows, err := r.st.WaitingOutbound(ctx, r.Overdue, r.cursor, r.CheckBatch)
	if err != nil {
		return 0, err
	}
	if len(rows) < r.CheckBatch {
		r.cursor = 0
	} else {
		r.cursor = rows[len(rows)-1].ID
	}
	var ids []int64
	for _, w := range rows {
		if !w.Overdue {
			continue
		}
		enqueued, err := r.q.ReviveSend(ctx, queue.SendPayload{MessageID: w.ID, From: w.From, TaskKey: w.TaskKey}, w.Queue, w.At)
		if err != nil {
			return len(ids), err
		}
		if enqueued {
			ids = append(ids, w.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	r.log.Warn("relay gave overdue messages a new task (theirs was archived, completed, gone or lost while active)", "count", len(ids))
	return len(ids), r.st.MarkEnqueued(ctx, ids)
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
