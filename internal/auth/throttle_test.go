package auth

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

func TestWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	base := 5 * time.Second
	cases := []struct {
		name string
		st   store.SignInStats
		want time.Duration
	}{
		{"no failures", store.SignInStats{Now: now}, 0},
		{"free failures", store.SignInStats{Now: now, Pair: 2, PairLast: ago(0), Address: 2, AddressOldest: ago(time.Minute)}, 0},
		{"third failure just now: 5 s", store.SignInStats{Now: now, Pair: 3, PairLast: ago(0), Address: 3}, 5 * time.Second},
		{"third failure 2 s ago: 3 s more", store.SignInStats{Now: now, Pair: 3, PairLast: ago(2 * time.Second), Address: 3}, 3 * time.Second},
		{"third failure 6 s ago: free", store.SignInStats{Now: now, Pair: 3, PairLast: ago(6 * time.Second), Address: 3}, 0},
		{"fifth failure: 20 s", store.SignInStats{Now: now, Pair: 5, PairLast: ago(0), Address: 5}, 20 * time.Second},
		{"many failures: capped", store.SignInStats{Now: now, Pair: 19, PairLast: ago(0), Address: 19}, MaxDelay},
		{"address limit: until the oldest leaves the window", store.SignInStats{Now: now, Pair: 0, Address: 20,
			AddressOldest: ago(10 * time.Minute)}, 5 * time.Minute},
		{"address limit, oldest about to leave: at least a second", store.SignInStats{Now: now, Address: 20,
			AddressOldest: ago(ThrottleWindow)}, time.Second},
	}
	for _, c := range cases {
		if got := Wait(c.st, base); got != c.want {
			t.Errorf("%s: wait %s, want %s", c.name, got, c.want)
		}
	}
}
