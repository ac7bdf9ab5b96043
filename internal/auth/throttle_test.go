package auth

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

func TestRefusalAndDelay(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	base := 250 * time.Millisecond
	cases := []struct {
		name           string
		st             store.SignInStats
		refused, delay time.Duration
	}{
		{"no failures", store.SignInStats{Now: now}, 0, 0},
		{"free failures", store.SignInStats{Now: now, Pair: 2, PairLast: ago(0), Address: 2, AddressOldest: ago(time.Minute)}, 0, 0},
		{"third failure just now", store.SignInStats{Now: now, Pair: 3, PairLast: ago(0), Address: 3}, 0, 250 * time.Millisecond},
		{"third failure 100 ms ago", store.SignInStats{Now: now, Pair: 3, PairLast: ago(100 * time.Millisecond), Address: 3}, 0, 150 * time.Millisecond},
		{"third failure a second ago", store.SignInStats{Now: now, Pair: 3, PairLast: ago(time.Second), Address: 3}, 0, 0},
		{"fifth failure", store.SignInStats{Now: now, Pair: 5, PairLast: ago(0), Address: 5}, 0, time.Second},
		{"many failures: capped", store.SignInStats{Now: now, Pair: 19, PairLast: ago(0), Address: 19}, 0, MaxDelay},
		{"address limit: until the oldest leaves the window", store.SignInStats{Now: now, Address: 20,
			AddressOldest: ago(10 * time.Minute)}, 5 * time.Minute, 0},
		{"address limit, oldest about to leave: at least a second", store.SignInStats{Now: now, Address: 20,
			AddressOldest: ago(ThrottleWindow)}, time.Second, 0},
	}
	for _, c := range cases {
		if got := Refusal(c.st); got != c.refused {
			t.Errorf("%s: refused for %s, want %s", c.name, got, c.refused)
		}
		if got := Delay(c.st, base); got != c.delay {
			t.Errorf("%s: delay %s, want %s", c.name, got, c.delay)
		}
	}
}
