package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"
)

// A client at 5 per second gets a burst of 10, then one every 200 ms; the
// refusal says how long to wait.
func TestRequestLimiter(t *testing.T) {
	_, rdb := setup(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	l := NewRequestLimiter(rdb, "rq"+hex.EncodeToString(b)+":")
	ctx := context.Background()
	allowed := 0
	var wait time.Duration
	for i := 0; i < 15; i++ {
		ok, w, err := l.Allow(ctx, "key1", 5)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		} else if wait == 0 {
			wait = w
		}
	}
	// The burst is 10; a loaded machine may let a few more intervals pass
	// while the 15 requests are made, each adding one.
	if allowed < 10 || allowed > 12 {
		t.Fatalf("%d of 15 requests at once allowed at 5/s, want the burst of 10", allowed)
	}
	if wait <= 0 || wait > 200*time.Millisecond {
		t.Fatalf("retry after %s, want at most one interval (200 ms)", wait)
	}
	if ok, _, _ := l.Allow(ctx, "key2", 5); !ok {
		t.Fatal("another client is limited by the first's requests")
	}
	time.Sleep(wait + 10*time.Millisecond)
	if ok, _, err := l.Allow(ctx, "key1", 5); !ok || err != nil {
		t.Fatalf("after waiting the time given: %v %v", ok, err)
	}
}
