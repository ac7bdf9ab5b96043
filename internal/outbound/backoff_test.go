package outbound_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/outbound"
)

// A retryable refusal is tried again soon, doubling from the base, at most
// CarrierBackoffCap later whatever the attempt, never before the carrier's
// hint, and spread by the jitter over the upper half of the pause.
func TestCarrierBackoff(t *testing.T) {
	t.Parallel()
	base := 500 * time.Millisecond
	cases := []struct {
		attempts int
		hint     time.Duration
		jitter   float64
		want     time.Duration
	}{
		{1, 0, 0, 250 * time.Millisecond},
		{1, 0, 0.999999, 500 * time.Millisecond},
		{2, 0, 0, 500 * time.Millisecond},
		{4, 0, 0.5, 3 * time.Second},
		{7, 0, 0, 15 * time.Second},
		{8, 0, 0, 15 * time.Second}, // 64 s capped at 30 s, lower half dropped
		{20, 0, 0.5, 22500 * time.Millisecond},
		{1000, 0, 0, 15 * time.Second}, // no overflow
		{1, 45 * time.Second, 0, 45 * time.Second},
		{0, 0, 0, 250 * time.Millisecond},
	}
	for _, c := range cases {
		got := outbound.CarrierBackoff(base, c.attempts, c.hint, c.jitter)
		if got.Round(time.Millisecond) != c.want {
			t.Errorf("CarrierBackoff(%d, hint %s, jitter %.2f) = %s, want %s", c.attempts, c.hint, c.jitter, got, c.want)
		}
	}
	if got := outbound.CarrierBackoff(0, 1, 0, 0); got != 250*time.Millisecond {
		t.Errorf("default base: %s, want 250ms", got)
	}
	// Twenty attempts are tried over minutes, not hours and not seconds.
	var total time.Duration
	for a := 1; a < outbound.MaxSendAttempts; a++ {
		total += outbound.CarrierBackoff(base, a, 0, 1)
	}
	if total < 5*time.Minute || total > 10*time.Minute {
		t.Errorf("the most a text is tried over: %s", total)
	}
}
