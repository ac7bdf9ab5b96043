package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func setup(t *testing.T) (*Limiter, *redis.Client) {
	t.Helper()
	t.Parallel()
	u := os.Getenv("PARLEY_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/15"
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return NewLimiter(rdb, "test:"+hex.EncodeToString(b)+":"), rdb
}

// Concurrent bookers on one number never get more than mps slots in any
// one-second window, and slots are handed out without gaps.
func TestSlotsNeverExceedTheRate(t *testing.T) {
	l, _ := setup(t)
	ctx := context.Background()
	const mps = 40
	var mu sync.Mutex
	var slots []time.Time
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				n := len(slots)
				mu.Unlock()
				if n >= 3*mps {
					return
				}
				got, next, err := l.ReserveMany(ctx, "+15005550006", mps, time.Second, 5)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				slots = append(slots, got...)
				mu.Unlock()
				if len(got) == 0 {
					time.Sleep(time.Until(next) - time.Second)
				}
			}
		}()
	}
	wg.Wait()
	sort.Slice(slots, func(i, j int) bool { return slots[i].Before(slots[j]) })
	best, j := 0, 0
	for i := range slots {
		for slots[i].Sub(slots[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	if best > mps {
		t.Fatalf("%d slots in one second at %d mps", best, mps)
	}
	span := slots[len(slots)-1].Sub(slots[0]).Seconds()
	if rate := float64(len(slots)-1) / span; rate < 0.95*mps || rate > mps {
		t.Fatalf("rate %.2f/s, want just under %d", rate, mps)
	}
}

// A booking further away than the caller will wait takes nothing and says
// when the next slot opens.
func TestReserveBeyondMaxWait(t *testing.T) {
	l, _ := setup(t)
	ctx := context.Background()
	first, ok, err := l.Reserve(ctx, "+15005550006", 1, 3*time.Second)
	if !ok || err != nil {
		t.Fatalf("first slot: %v %v", ok, err)
	}
	next, ok, err := l.Reserve(ctx, "+15005550006", 1, 100*time.Millisecond)
	if gap := next.Sub(first); ok || err != nil || gap < 1000*time.Millisecond || gap > 1100*time.Millisecond {
		t.Fatalf("second slot at 1 mps: ok=%v, %s after the first, err=%v; want none, about 1 s after the first", ok, gap, err)
	}
	// Other numbers are not affected.
	if _, ok, _ := l.Reserve(ctx, "+15005550007", 1, 3*time.Second); !ok {
		t.Fatal("another number shares the first one's pace")
	}
}

// A number whose state Redis lost (a flush, a failover) restarts past every
// slot that may already be booked: never at now, where the senders still
// waiting for their slots and the new ones would send together.
func TestLostStateRestartsPastBookedSlots(t *testing.T) {
	l, rdb := setup(t)
	ctx := context.Background()
	const number, mps = "+15005550008", 10
	if err := rdb.Set(ctx, l.prefix+number, 0, 0).Err(); err != nil { // a number in use
		t.Fatal(err)
	}
	var last time.Time
	for i := 0; i < 10; i++ { // about a second of slots, as far as replies book
		slot, ok, err := l.Reserve(ctx, number, mps, time.Second)
		if !ok || err != nil {
			t.Fatalf("slot %d: %v %v", i, ok, err)
		}
		last = slot
	}
	if err := rdb.Del(ctx, l.prefix+number).Err(); err != nil {
		t.Fatal(err)
	}
	next, ok, err := l.Reserve(ctx, number, mps, 3*time.Second)
	if !ok || err != nil {
		t.Fatalf("slot after the loss: %v %v", ok, err)
	}
	if next.Before(last) {
		t.Fatalf("after the key was lost the next slot is %s before the last one booked", last.Sub(next))
	}
	// A number idle long enough for its slots to be past restarts at once.
	if err := rdb.Set(ctx, l.prefix+"+15005550009", time.Now().Add(-time.Hour).UnixMicro(), 0).Err(); err != nil {
		t.Fatal(err)
	}
	if slot, ok, _ := l.Reserve(ctx, "+15005550009", mps, 50*time.Millisecond); !ok || time.Until(slot) > 50*time.Millisecond {
		t.Fatalf("an idle number waits %s for its first slot", time.Until(slot))
	}
}

// The clock map keeps the answer with the least doubt: a slow answer does
// not move it.
func TestRedisClockKeepsTheSurestAnchor(t *testing.T) {
	var c redisClock
	t0 := time.Now()
	c.sample(t0, t0.Add(2*time.Millisecond), 1_000_000) // Redis said 1 s at t0+1ms
	m := c.sample(t0.Add(time.Second), t0.Add(time.Second+80*time.Millisecond), 2_100_000)
	if got := m.local(1_500_000).Sub(t0); got != 501*time.Millisecond {
		t.Fatalf("after a slow answer Redis's 1.5 s maps to t0+%s, want t0+501ms", got)
	}
	m = c.sample(t0.Add(2*time.Second), t0.Add(2*time.Second+time.Millisecond), 3_000_700)
	if got := m.local(3_000_700).Sub(t0); got != 2*time.Second+500*time.Microsecond {
		t.Fatalf("a surer answer must become the anchor: t0+%s", got)
	}
}

// A sender that woke after its slot may send at once only while nothing is
// booked from now on, and doing so books the instant.
func TestTakeNowOnlyWhenIdle(t *testing.T) {
	l, rdb := setup(t)
	ctx := context.Background()
	const number, mps = "+15005550010", 10
	if _, ok, err := l.TakeNow(ctx, number, mps); ok || err != nil {
		t.Fatalf("a number with no state (lost, or new): %v %v; want no", ok, err)
	}
	if err := rdb.Set(ctx, l.prefix+number, 0, 0).Err(); err != nil {
		t.Fatal(err)
	}
	slot, ok, err := l.TakeNow(ctx, number, mps)
	if !ok || err != nil || time.Since(slot) > 50*time.Millisecond || time.Until(slot) > 5*time.Millisecond {
		t.Fatalf("an idle number: %v %v, slot %s from now; want a slot now", ok, err, time.Until(slot))
	}
	if _, ok, _ := l.TakeNow(ctx, number, mps); ok {
		t.Fatal("a second slot at the same instant")
	}
	next, ok, err := l.Reserve(ctx, number, mps, time.Second)
	if gap := next.Sub(slot); !ok || err != nil || gap < 100*time.Millisecond || gap > 110*time.Millisecond {
		t.Fatalf("the next booking is %s after the taken instant, want one interval (104 ms)", gap)
	}
	if _, ok, _ := l.TakeNow(ctx, number, mps); ok {
		t.Fatal("a slot now while one is booked ahead")
	}
}
