package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RequestLimiter limits requests per client (an API key) to a rate with a
// burst of twice that, shared by every process through Redis: a GCRA on
// Redis's clock, one round trip per request.
type RequestLimiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRequestLimiter returns a limiter keeping its state under prefix.
func NewRequestLimiter(rdb redis.UniversalClient, prefix string) *RequestLimiter {
	return &RequestLimiter{rdb: rdb, prefix: prefix}
}

// KEYS[1] the client's TAT (µs). ARGV: interval µs, tolerance µs (burst-1
// intervals). Returns 0 when allowed, else the µs to wait.
var allowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then return tat - now - tolerance end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil((tat + interval - now) / 1000) + 1000)
return 0
`)

// Allow takes one request of client at rate per second (burst 2 × rate);
// when refused, retryAfter is when one is allowed again.
func (l *RequestLimiter) Allow(ctx context.Context, client string, rate int) (ok bool, retryAfter time.Duration, err error) {
	rate = max(rate, 1)
	interval := int64(time.Second/time.Microsecond) / int64(rate)
	wait, err := allowScript.Run(ctx, l.rdb, []string{l.prefix + client}, max(interval, 1), max(interval, 1)*int64(2*rate-1)).Int64()
	if err != nil {
		return false, 0, fmt.Errorf("queue: request limit %s: %w", client, err)
	}
	return wait == 0, time.Duration(wait) * time.Microsecond, nil
}
