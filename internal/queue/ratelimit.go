package queue

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter paces each sender number to its messages-per-second across every
// worker process. It is a GCRA with reservations kept in Redis: each number
// has a theoretical arrival time (TAT); taking a slot returns when it is (the
// slot is then the caller's) or, when the slot is further away than the caller
// may wait, nothing. Slots are spaced 4% wider than 1/mps on Redis's clock, so
// no one-second window at the carrier holds more than mps sends even when a
// send arrives there up to 40 ms after its slot.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
	clock  redisClock
	// Lead, when set, is the least time between booking and a slot (at
	// least MinLead, at most MaxLead): the sender claims its message in
	// between, so it sets this to how long its claims take.
	Lead func() time.Duration
}

// MinLead and MaxLead bound the least time between booking and a slot.
const (
	MinLead = 15 * time.Millisecond
	MaxLead = 80 * time.Millisecond
)

func (l *Limiter) lead() time.Duration {
	if l.Lead == nil {
		return MinLead
	}
	return min(max(l.Lead(), MinLead), MaxLead)
}

// NewLimiter returns a limiter storing its state under prefix in rdb.
func NewLimiter(rdb redis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix}
}

// KEYS[1] the number's TAT. ARGV: interval µs, max wait µs, count, lead µs,
// horizon µs. Returns Redis's now (µs), then the times (µs, Redis's clock) of
// up to count slots that open within max wait; when none does, its one other
// element is minus the time of the next slot.
//
// The TAT is kept for a day after its last use (a TAT in the past is simply
// now). A missing key therefore means Redis lost it (a flush, a failover to a
// replica without it) or the number was idle for a day: slots up to horizon
// ahead may already be booked and waited on, so the number starts again one
// interval past all of them rather than at now, where it would send twice its
// rate.
var reserveManyScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local maxwait = tonumber(ARGV[2])
local lead = tonumber(ARGV[4])
local stored = redis.call('GET', KEYS[1])
local tat
if stored then tat = tonumber(stored) else tat = now + tonumber(ARGV[5]) + interval end
if tat < now + lead then tat = now + lead end
local out = {now}
for i = 1, tonumber(ARGV[3]) do
  if tat - now > maxwait then break end
  out[#out + 1] = tat
  tat = tat + interval
end
if #out == 1 then
  if not stored then redis.call('SET', KEYS[1], tat, 'PX', 86400000) end
  return {now, -tat}
end
redis.call('SET', KEYS[1], tat, 'PX', 86400000)
return out
`)

// Horizon is the furthest ahead any caller books a slot (a reply books at
// most about a second ahead, other texts 100 ms): a number whose state Redis
// lost restarts this far ahead, past every slot that may still be waited on.
const Horizon = 1100 * time.Millisecond

// ReserveMany takes up to count of number's next slots that open within
// maxWait, in one round trip, and returns them on this process's clock. None
// taken: next is when the next slot opens.
//
// Slots are times, not waits: a caller that is paused after the answer (GC,
// a busy CPU) still knows when its slot was, so it can tell that it woke too
// late, instead of counting a wait from the moment it read the answer and
// sending late.
func (l *Limiter) ReserveMany(ctx context.Context, number string, mps int, maxWait time.Duration, count int) (slots []time.Time, next time.Time, err error) {
	start := time.Now()
	res, err := reserveManyScript.Run(ctx, l.rdb, []string{l.prefix + number}, interval(mps), maxWait.Microseconds(), count,
		l.lead().Microseconds(), Horizon.Microseconds()).Int64Slice()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("queue: rate limit %s: %w", number, err)
	}
	if len(res) < 2 {
		return nil, time.Time{}, fmt.Errorf("queue: rate limit %s: short answer %v", number, res)
	}
	clock := l.clock.sample(start, time.Now(), res[0])
	if len(res) == 2 && res[1] < 0 {
		return nil, clock.local(-res[1]), nil
	}
	slots = make([]time.Time, len(res)-1)
	for i, at := range res[1:] {
		slots[i] = clock.local(at)
	}
	return slots, time.Time{}, nil
}

// KEYS[1] the number's TAT, ARGV[1] the interval µs. A slot now, if no slot
// is booked from now on (the TAT, one interval after the last booked slot,
// is past): its time (Redis's now, µs), else 0. A missing key is never idle
// (see reserveManyScript).
var takeNowScript = redis.NewScript(`
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tonumber(stored) > now then return 0 end
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', 86400000)
return now
`)

// TakeNow takes a slot of number at this instant if every slot booked so far
// is at least one interval past, which is what a sender that woke after its
// own slot needs: when the number is not running at its rate, sending now
// crowds no one, and nothing has to be booked and waited for again. ok is
// false when slots are booked ahead (the number is busy). The slot is the
// instant Redis granted it: the caller checks, as for any slot, that it is not
// late for it by the time it calls the carrier.
func (l *Limiter) TakeNow(ctx context.Context, number string, mps int) (slot time.Time, ok bool, err error) {
	start := time.Now()
	at, err := takeNowScript.Run(ctx, l.rdb, []string{l.prefix + number}, interval(mps)).Int64()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("queue: rate limit %s: %w", number, err)
	}
	if at == 0 {
		return time.Time{}, false, nil
	}
	return l.clock.sample(start, time.Now(), at).local(at), true, nil
}

// Reserve takes the next slot of number if it opens within maxWait. ok=false
// means no slot was taken; slot is then when the next one opens.
func (l *Limiter) Reserve(ctx context.Context, number string, mps int, maxWait time.Duration) (slot time.Time, ok bool, err error) {
	slots, next, err := l.ReserveMany(ctx, number, mps, maxWait, 1)
	if err != nil || len(slots) == 0 {
		return next, false, err
	}
	return slots[0], true, nil
}

// redisClock maps Redis's clock onto this process's monotonic clock. Each
// answer carries Redis's time, read somewhere between sending the request and
// receiving the answer; the anchor kept is the answer with the least doubt
// (half its round trip), a doubt that grows with the anchor's age (clocks
// drift, far less than 100 ppm), so a slow answer never shifts the map.
type redisClock struct {
	mu     sync.Mutex
	anchor time.Time // a local instant (with its monotonic reading) …
	redis  int64     // … and Redis's time then, in µs
	doubt  time.Duration
}

// clockMap is a snapshot of the anchor.
type clockMap struct {
	anchor time.Time
	redis  int64
}

func (m clockMap) local(redisMicros int64) time.Time {
	return m.anchor.Add(time.Duration(redisMicros-m.redis) * time.Microsecond)
}

func (c *redisClock) sample(sent, received time.Time, redisMicros int64) clockMap {
	c.mu.Lock()
	defer c.mu.Unlock()
	doubt := received.Sub(sent) / 2
	if c.anchor.IsZero() || doubt <= c.doubt+received.Sub(c.anchor)/10000 {
		c.anchor, c.redis, c.doubt = sent.Add(doubt), redisMicros, doubt
	}
	return clockMap{anchor: c.anchor, redis: c.redis}
}

// Margin is the slot spacing in thousandths of 1/mps (see interval).
const Margin = 1040

// interval is the spacing of a number's slots in microseconds.
func interval(mps int) int64 {
	if mps <= 0 {
		mps = 1
	}
	// Spaced 4% wider than 1/mps, and rounded up: mps slots then span 1.04 s,
	// so a send may reach the carrier up to 40 ms after its slot (scheduling
	// on a busy machine, the HTTP round trip's jitter) and still no
	// one-second window at the carrier holds more than mps of them. With a
	// 1.5% margin a send delayed 32 ms on a loaded machine let 6 texts of a
	// 5 mps number into one second.
	return (int64(time.Second/time.Microsecond)*Margin/1000 + int64(mps) - 1) / int64(mps)
}
