package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// fault is one fault as it happened: what, and from when to when.
type fault struct {
	name       string
	start, end time.Time
}

// faultLog records the faults so the report can name them and the reply
// delays can be judged outside them.
type faultLog struct {
	mu   sync.Mutex
	list []fault
}

func (l *faultLog) add(name string, start, end time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, fault{name: name, start: start, end: end})
}

func (l *faultLog) all() []fault {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]fault(nil), l.list...)
}

// during reports whether t falls in a fault or the recovery after it
// (the second before it to five seconds after).
func (l *faultLog) during(t time.Time) bool {
	for _, f := range l.all() {
		if !t.Before(f.start.Add(-time.Second)) && !t.After(f.end.Add(5*time.Second)) {
			return true
		}
	}
	return false
}

// runFaults injects every fault at its moment of the soak: the worker
// kills at 30% and 60% of the campaign, the rest at shares of the soak's
// length, all in its first faultSpan, so the rest of it shows recovery
// and steady memory. It returns when the last fault is over.
func (s *soak) runFaults(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.workerKills(ctx) }()
	at := func(share float64) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(s.start.Add(time.Duration(share / 0.6 * s.plan.faultSpan * float64(s.plan.soak))))):
			return true
		}
	}
	n := 5
	if s.plan.long {
		n = 20
	}
	if at(0.10) {
		t0 := time.Now()
		s.c.fake.FailNextAfterCreate(n, http.StatusInternalServerError, 20500, "Internal Server Error")
		s.faults.add(fmt.Sprintf("carrier 500 after accepting %d creates", n), t0, time.Now().Add(time.Second))
	}
	if at(0.15) {
		t0 := time.Now()
		s.c.redis.restart(s.t, time.Second)
		s.faults.add("Redis restarted (down 1 s)", t0, time.Now())
	}
	if s.plan.long && at(0.22) {
		t0 := time.Now()
		s.c.fake.hangNext.Store(5)
		s.c.fake.stallNext.Store(5)
		s.faults.add("carrier hangs 5 creates (refused after 20 s) and accepts 5 then hangs 20 s", t0, t0.Add(hangFor+time.Second))
	}
	if at(0.30) {
		t0 := time.Now()
		s.c.redis.flush(s.t)
		s.faults.add("Redis flushed (FLUSHALL)", t0, time.Now())
	}
	if at(0.38) {
		t0 := time.Now()
		down := 2 * time.Second
		if s.plan.long {
			down = 5 * time.Second
		}
		s.c.pg.restart(s.t, down)
		s.faults.add(fmt.Sprintf("Postgres restarted (down %s), webhooks arriving", down), t0, time.Now())
	}
	if at(0.45) {
		t0 := time.Now()
		s.c.fake.throttle.Store(true)
		time.Sleep(s.plan.throttle)
		s.c.fake.throttle.Store(false)
		s.faults.add(fmt.Sprintf("carrier answers 429 for %s", s.plan.throttle), t0, time.Now())
	}
	if at(0.60) {
		t0 := time.Now()
		w := s.c.web[0]
		w.kill()
		time.Sleep(time.Second)
		w.run(s.t)
		s.faults.add("web process killed (-9) and restarted", t0, time.Now())
	}
	wg.Wait()
}

// workerKills kill -9 a worker at 30% and another at 60% of the
// campaign's texts at the carrier, each restarted a second later.
func (s *soak) workerKills(ctx context.Context) {
	eligible := int64(0)
	for i := 0; i < s.rec.n; i++ {
		if !s.rec.optedOut(i) {
			eligible++
		}
	}
	for k, share := range []float64{0.3, 0.6} {
		for s.c.fake.campaignSent.Load() < int64(share*float64(eligible)) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		t0 := time.Now()
		w := s.c.workers[k]
		w.kill()
		time.Sleep(time.Second)
		w.run(s.t)
		s.faults.add(fmt.Sprintf("%s killed (-9) at %.0f%% of the campaign, restarted", w.name, share*100), t0, time.Now())
	}
}

// describeFaults is the faults' list for the report.
func (s *soak) describeFaults() string {
	var b strings.Builder
	for _, f := range s.faults.all() {
		fmt.Fprintf(&b, "  - %s at +%s (%s)\n", f.name, f.start.Sub(s.start).Round(100*time.Millisecond), f.end.Sub(f.start).Round(100*time.Millisecond))
	}
	return b.String()
}
