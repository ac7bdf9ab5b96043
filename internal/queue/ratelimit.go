package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter paces each sender number to its messages-per-second across every
// worker process. It is a GCRA with reservations kept in Redis: each number
// has a theoretical arrival time (TAT); taking a slot returns how long to wait
// for it (the slot is then the caller's) or, when the slot is further away than
// the caller may wait, nothing. Slots are spaced 1/mps apart and the clock is
// Redis's own, so no one-second window ever holds more than mps sends; the
// price is a rate 1% under the limit.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewLimiter returns a limiter storing its state under prefix in rdb.
func NewLimiter(rdb redis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix}
}

// KEYS[1] the number's TAT. ARGV: interval µs, max wait µs, count, lead µs,
// horizon µs. Returns the waits (µs) of up to count slots that open within
// max wait; an empty answer carries, as its one negative element, minus the
// wait to the next slot.
//
// The TAT is kept for a day after its last use (a TAT in the past is simply
// now). A missing key therefore means Redis lost it (a flush, a failover to a
// replica without it) or the number was idle for a day: slots up to horizon
// ahead may already be booked and waited on, so the number starts again past
// all of them rather than at now, where it would send twice its rate.
var reserveManyScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local maxwait = tonumber(ARGV[2])
local lead = tonumber(ARGV[4])
local stored = redis.call('GET', KEYS[1])
local tat
if stored then tat = tonumber(stored) else tat = now + tonumber(ARGV[5]) end
if tat < now + lead then tat = now + lead end
local out = {}
for i = 1, tonumber(ARGV[3]) do
  if tat - now > maxwait then break end
  out[#out + 1] = tat - now
  tat = tat + interval
end
if #out == 0 then
  if not stored then redis.call('SET', KEYS[1], tat, 'PX', 86400000) end
  return {-(tat - now)}
end
redis.call('SET', KEYS[1], tat, 'PX', 86400000)
return out
`)

// lead is the least time between booking a slot and the slot: the sender
// claims its message in between, and a slot that passed during the claim
// would have to be booked again.
const lead = 15 * time.Millisecond

// Horizon is the furthest ahead any caller books a slot (a reply books at
// most about a second ahead, other texts 100 ms): a number whose state Redis
// lost restarts this far ahead, past every slot that may still be waited on.
const Horizon = 1100 * time.Millisecond

// ReserveMany takes up to count of number's next slots that open within
// maxWait, in one round trip, and returns how long to wait for each. None
// taken: next says when the next slot opens.
func (l *Limiter) ReserveMany(ctx context.Context, number string, mps int, maxWait time.Duration, count int) (waits []time.Duration, next time.Duration, err error) {
	res, err := reserveManyScript.Run(ctx, l.rdb, []string{l.prefix + number}, interval(mps), maxWait.Microseconds(), count,
		lead.Microseconds(), Horizon.Microseconds()).Int64Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("queue: rate limit %s: %w", number, err)
	}
	if len(res) == 1 && res[0] < 0 {
		return nil, time.Duration(-res[0]) * time.Microsecond, nil
	}
	waits = make([]time.Duration, len(res))
	for i, w := range res {
		waits[i] = time.Duration(w) * time.Microsecond
	}
	return waits, 0, nil
}

// Reserve takes the next slot of number if it opens within maxWait, and says
// how long to wait for it. ok=false means no slot was taken; wait then says
// when the next one opens.
func (l *Limiter) Reserve(ctx context.Context, number string, mps int, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	waits, next, err := l.ReserveMany(ctx, number, mps, maxWait, 1)
	if err != nil || len(waits) == 0 {
		return next, false, err
	}
	return waits[0], true, nil
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
