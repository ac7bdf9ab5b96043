package outbound

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/queue"
)

// Batcher enqueues grouped send tasks (queue.Client in production).
type Batcher interface {
	EnqueueBatch(ctx context.Context, p queue.BatchPayload, queueName string, at time.Time) (string, error)
	EnqueueBatchAs(ctx context.Context, p queue.BatchPayload, queueName string, at time.Time, taskID string) (string, error)
	TaskEnsurer
}

// cutBefore is how long before its task's deadline a grouped task stops
// booking slots and hands the rest of its texts on.
const cutBefore = 15 * time.Second

// errCut ends a grouped task's booking near its deadline.
var errCut = errors.New("outbound: grouped task near its deadline")

// HandleBatch is the queue.BatchHandler: the texts of one grouped bulk task
// (up to queue.BatchSize of one sender number), in id order. It books the
// number's slots for as many of its texts as open within bookAhead, in one
// round trip; each text then goes on exactly as a task of its own would:
// unclaimed until just before its slot, claimed (concurrent claims share one
// statement), checked against consent, the cap and quiet hours, sent, and its
// SID recorded with the others'. So the queue's cost is paid once per group,
// not once per text. A text that cannot go now (quiet hours, a schedule, the
// carrier's retryable refusal, an outage, the worker stopping) is handed on:
// due within a second, in a new grouped task with the texts not yet started;
// later, in a task of its own due when it may go. The task fails (and runs
// again) only when that hand-on fails, and a run again skips what was sent,
// since a sent text can no longer be claimed.
func (s *Sender) HandleBatch(ctx context.Context, p queue.BatchPayload, _ queue.Attempt) error {
	mps, err := s.rates.mps(ctx, p.From)
	if err != nil {
		return &queue.RetryAt{At: time.Now().Add(5 * time.Second), Reason: err.Error()}
	}
	if p.Queue == "" {
		p.Queue = queue.Bulk
	}
	// A number's grouped tasks in this process take turns: a few book and
	// send at a time — enough to keep its rate, few enough that slots are
	// not booked faster than this process can send them (a slot booked and
	// missed is a text claimed, late and booked again) — and the others
	// wait their turn without polling. Past MaxWaiters holding a worker,
	// the rest go back to the queue for a while.
	release, err := s.groups.enter(ctx, s.stopped(), p.From, s.GroupsPerNumber, s.MaxWaiters)
	if err != nil {
		var r *queue.RetryAt
		if errors.As(err, &r) {
			s.metrics.Sent("rate_limited")
			return err
		}
		return &queue.RetryAt{At: time.Now(), Reason: "worker stopping"}
	}
	defer release()

	ids := slices.Clone(p.IDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	outcomes := make([]error, len(ids))
	var wg sync.WaitGroup
	started := 0
	for started < len(ids) {
		slots, err := s.bookMany(ctx, p.From, mps, len(ids)-started)
		if err != nil {
			if !errors.Is(err, errStopping) && !errors.Is(err, errCut) {
				s.log.Warn("grouped send task could not book slots; handing its texts on", "from", p.From, "err", err)
			}
			break
		}
		for _, slot := range slots {
			i := started
			started++
			wg.Add(1)
			go func() {
				defer wg.Done()
				one := queue.SendPayload{MessageID: ids[i], From: p.From, Queue: p.Queue}
				outcomes[i] = s.outcome(ids[i], s.deliver(ctx, one, mps, slot))
			}()
		}
	}
	wg.Wait()
	for i := started; i < len(ids); i++ {
		outcomes[i] = &queue.RetryAt{At: time.Now(), Reason: "grouped task cut short"}
	}
	return s.handOn(context.WithoutCancel(ctx), p, ids, outcomes)
}

// groups is the turnstile of each sender number's grouped tasks.
type groups struct {
	mu sync.Mutex
	m  map[string]*turn
}

type turn struct {
	run  chan struct{} // a token per grouped task booking and sending
	held int           // tasks running or waiting
}

// enter waits for a turn of number's grouped tasks (at most running at
// once), or answers a retry when hold tasks already run or wait.
func (g *groups) enter(ctx context.Context, stopping <-chan struct{}, number string, running, hold int) (release func(), err error) {
	running = max(running, 1)
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*turn{}
	}
	t, ok := g.m[number]
	if !ok || cap(t.run) != running {
		if ok && t.held > 0 {
			running = cap(t.run) // changed while in use: the new size applies once idle
		} else {
			t = &turn{run: make(chan struct{}, running)}
			g.m[number] = t
		}
	}
	if t.held >= max(hold, running) {
		g.mu.Unlock()
		//nolint:gosec // G404: retry jitter, not a secret
		return nil, &queue.RetryAt{At: time.Now().Add(time.Second + rand.N(time.Second)), Reason: "sender number has enough grouped tasks waiting"}
	}
	t.held++
	g.mu.Unlock()
	leave := func() {
		g.mu.Lock()
		t.held--
		g.mu.Unlock()
	}
	select {
	case t.run <- struct{}{}:
		return func() { <-t.run; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	case <-stopping:
		leave()
		return nil, errStopping
	}
}

// bookMany books up to n (at most a group) of the number's next slots that
// open within bookAhead, waiting until at least one does.
func (s *Sender) bookMany(ctx context.Context, from string, mps, n int) ([]time.Time, error) {
	for {
		select {
		case <-s.stopped():
			return nil, errStopping
		default:
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < cutBefore {
			return nil, errCut
		}
		slots, next, err := s.limiter.ReserveMany(ctx, from, mps, bookAhead, min(n, queue.BatchSize))
		if err != nil {
			return nil, err
		}
		if len(slots) > 0 {
			return slots, nil
		}
		if err := s.sleep(ctx, max(time.Until(next)-bookAhead, time.Millisecond)); err != nil {
			return nil, err
		}
	}
}

// handOn gives every text of the group that did not finish a task again:
// those due within a second together, in one new grouped task; the others
// each in a task of its own, due when it may go.
func (s *Sender) handOn(ctx context.Context, p queue.BatchPayload, ids []int64, outcomes []error) error {
	var soon []int64
	var soonAt time.Time
	type later struct {
		id int64
		at time.Time
	}
	var alone []later
	horizon := time.Now().Add(time.Second)
	for i, err := range outcomes {
		if err == nil {
			continue
		}
		at := time.Now().Add(2 * time.Second) // the carrier refused it retryably (it is queued again)
		var r *queue.RetryAt
		var ce *carrier.Error
		switch {
		case errors.As(err, &r):
			at = r.At
		case errors.As(err, &ce):
		default:
			at = time.Now().Add(5 * time.Second)
		}
		if at.Before(horizon) {
			soon = append(soon, ids[i])
			if at.After(soonAt) {
				soonAt = at
			}
			continue
		}
		alone = append(alone, later{ids[i], at})
	}
	for start := 0; start < len(soon); start += queue.BatchSize {
		chunk := soon[start:min(start+queue.BatchSize, len(soon))]
		// A key of its own: the group being handled may still hold its
		// first id's key, and an enqueue under a taken key would be a no-op.
		key := queue.BatchTaskID(chunk) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if _, err := s.Tasks.EnqueueBatchAs(ctx, queue.BatchPayload{IDs: chunk, From: p.From}, p.Queue, soonAt, key); err != nil {
			return &queue.RetryAt{At: time.Now().Add(5 * time.Second), Reason: err.Error()}
		}
		if err := s.st.MarkEnqueuedIn(ctx, chunk, key); err != nil {
			// The relay, finding the old group gone, gives each a task of
			// its own: the claim still sends each once.
			s.log.Warn("could not record a grouped task's hand-on", "count", len(chunk), "err", err)
		}
	}
	var single []int64
	for _, l := range alone {
		if _, err := s.Tasks.EnsureSend(ctx, queue.SendPayload{MessageID: l.id, From: p.From}, p.Queue, l.at); err != nil {
			return &queue.RetryAt{At: time.Now().Add(5 * time.Second), Reason: err.Error()}
		}
		single = append(single, l.id)
	}
	if err := s.st.MarkEnqueuedIn(ctx, single, ""); err != nil {
		s.log.Warn("could not record texts handed to tasks of their own", "count", len(single), "err", err)
	}
	return nil
}
