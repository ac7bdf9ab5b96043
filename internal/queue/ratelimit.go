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

// KEYS[1] the number's TAT (microseconds). ARGV: interval µs, max wait µs.
// Returns {1, wait µs} for a reserved slot, {0, wait µs} when it is too far.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > tonumber(ARGV[2]) then
  return {0, wait}
end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.floor((wait + interval) / 1000) + 2000)
return {1, wait}
`)

// Reserve takes the next slot of number if it opens within maxWait, and says
// how long to wait for it. ok=false means no slot was taken; wait then says
// when the next one opens.
func (l *Limiter) Reserve(ctx context.Context, number string, mps int, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	if mps <= 0 {
		mps = 1
	}
	// Spaced 1.5% wider than 1/mps, and rounded up, so that mps slots never fit
	// in one second even after a few milliseconds of scheduling and network
	// jitter between the slot and the carrier (at 225 mps a 4444 µs spacing
	// would already let 226 sends into some one-second window).
	interval := (int64(time.Second/time.Microsecond)*1015/1000 + int64(mps) - 1) / int64(mps)
	res, err := reserveScript.Run(ctx, l.rdb, []string{l.prefix + number}, interval, maxWait.Microseconds()).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("queue: rate limit %s: %w", number, err)
	}
	return time.Duration(res[1]) * time.Microsecond, res[0] == 1, nil
}
