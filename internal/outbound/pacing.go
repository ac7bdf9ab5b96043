package outbound

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

// lines holds this process's waiting line per sender number.
type lines struct {
	mu sync.Mutex
	m  map[string]*line
}

func (ls *lines) get(number string) *line {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.m == nil {
		ls.m = map[string]*line{}
	}
	l, ok := ls.m[number]
	if !ok {
		l = &line{}
		l.cond = sync.NewCond(&l.mu)
		ls.m[number] = l
	}
	return l
}

// line is the texts of one sender number waiting for slots in this process.
type line struct {
	mu      sync.Mutex
	cond    *sync.Cond
	waiting int
	booking bool
	slots   []time.Time // booked and not yet handed out, earliest first
}

// take returns a booked slot for the caller, or a rate-limit retry when the
// line already holds limit waiters.
func (l *line) take(ctx context.Context, s *Sender, from string, mps, limit int) (time.Time, error) {
	l.mu.Lock()
	if l.waiting >= limit {
		l.mu.Unlock()
		s.metrics.Sent("rate_limited")
		return time.Time{}, &queue.RetryAt{At: time.Now().Add(time.Second), Reason: "sender number at its rate"}
	}
	l.waiting++
	defer func() { l.waiting--; l.mu.Unlock() }()
	for {
		for len(l.slots) > 0 {
			slot := l.slots[0]
			l.slots = l.slots[1:]
			// A slot left by a waiter that gave up is gone once passed:
			// using it late would crowd the slots after it.
			if time.Since(slot) < time.Millisecond {
				return slot, nil
			}
		}
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		if l.booking {
			l.cond.Wait()
			continue
		}
		select {
		case <-s.stopped(): // a stopping worker books nothing more
			return time.Time{}, errStopping
		default:
		}
		l.booking = true
		want := min(l.waiting, 64)
		l.mu.Unlock()
		slots, next, err := s.limiter.ReserveMany(ctx, from, mps, bookAhead, want)
		if err == nil && len(slots) == 0 {
			err = s.sleep(ctx, max(time.Until(next)-bookAhead, time.Millisecond))
		}
		l.mu.Lock()
		l.slots = append(l.slots, slots...)
		l.booking = false
		l.cond.Broadcast()
		if err != nil {
			return time.Time{}, err
		}
	}
}

// rates keeps each sender number's messages-per-second in memory, reloaded
// every 10 s (and at once for an unknown number), so pacing costs no query.
type rates struct {
	st       *store.Store
	mu       sync.Mutex
	byNumber map[string]int
	loadedAt time.Time
}

func (r *rates) mps(ctx context.Context, number string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.byNumber[number]
	age := time.Since(r.loadedAt)
	if ok && age < 10*time.Second {
		return n, nil
	}
	if !ok && r.byNumber != nil && age < time.Second {
		return 1, nil // unknown a moment ago: not a brand number, the slowest pace
	}
	brands, err := r.st.Brands(ctx)
	if err != nil {
		if ok {
			return n, nil
		}
		return 0, err
	}
	r.byNumber = map[string]int{}
	for _, b := range brands {
		for _, bn := range b.Numbers {
			r.byNumber[bn.Number] = bn.MPS
		}
	}
	r.loadedAt = time.Now()
	if n, ok = r.byNumber[number]; !ok {
		n = 1 // not a brand number any more: the slowest pace
	}
	return n, nil
}

// waiters counts, per sender number, the replies of this process waiting
// for a slot, so that one number cannot hold every worker.
type waiters struct {
	mu sync.Mutex
	n  map[string]int
}

// enter admits one more waiter for number unless limit are waiting already;
// the caller calls release when its wait is over.
func (w *waiters) enter(number string, limit int) (release func(), err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == nil {
		w.n = map[string]int{}
	}
	if w.n[number] >= limit {
		return nil, &queue.RetryAt{At: time.Now().Add(time.Second), Reason: "sender number has enough replies waiting"}
	}
	w.n[number]++
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.n[number]--; w.n[number] == 0 {
			delete(w.n, number)
		}
	}, nil
}
