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

// KEYS[1] the number's TAT. ARGV: interval µs, max wait µs, count, lead µs.
// Returns the waits (µs) of up to count slots that open within max wait; an
// empty answer carries, as its one negative element, minus the wait to the
// next slot.
var reserveManyScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local maxwait = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local lead = tonumber(ARGV[4])
if tat < now + lead then tat = now + lead end
local out = {}
for i = 1, tonumber(ARGV[3]) do
  if tat - now > maxwait then break end
  out[#out + 1] = tat - now
  tat = tat + interval
end
if #out == 0 then
  return {-(tat - now)}
end
redis.call('SET', KEYS[1], tat, 'PX', math.floor((tat - now) / 1000) + 2000)
return out
`)

// lead is the least time between booking a slot and the slot: the sender
// claims its message in between, and a slot that passed during the claim
// would have to be booked again.
const lead = 15 * time.Millisecond

// ReserveMany takes up to count of number's next slots that open within
// maxWait, in one round trip, and returns how long to wait for each. None
// taken: next says when the next slot opens.
func (l *Limiter) ReserveMany(ctx context.Context, number string, mps int, maxWait time.Duration, count int) (waits []time.Duration, next time.Duration, err error) {
	res, err := reserveManyScript.Run(ctx, l.rdb, []string{l.prefix + number}, interval(mps), maxWait.Microseconds(), count,
		lead.Microseconds()).Int64Slice()
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

// interval is the spacing of a number's slots in microseconds.
func interval(mps int) int64 {
	if mps <= 0 {
		mps = 1
	}
	// Spaced 1.5% wider than 1/mps, and rounded up, so that mps slots never fit
	// in one second even after a few milliseconds of scheduling and network
	// jitter between the slot and the carrier (at 225 mps a 4444 µs spacing
	// would already let 226 sends into some one-second window).
	return (int64(time.Second/time.Microsecond)*1015/1000 + int64(mps) - 1) / int64(mps)
}
