package outbound

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/queue"
)

func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	u := os.Getenv("PARLEY_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/15"
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return rdb, "test:" + hex.EncodeToString(b) + ":"
}

// A STOP a web process answered from its spool is not in Postgres yet:
// texts to its phone are left queued by every claim until the replay
// unmarks it, and the other texts of the same claim go as usual.
func TestClaimLeavesSpooledOptOutsQueued(t *testing.T) {
	st, brand := claimWorld(t)
	ctx := context.Background()
	rdb, prefix := testRedis(t)
	marks := queue.NewSpooledOptOuts(rdb, prefix)
	stopped, other := "+14155550190", "+14155550191"
	held, free := queueOne(t, st, brand, stopped, "conversational"), queueOne(t, st, brand, other, "conversational")
	if err := marks.Mark(ctx, stopped); err != nil {
		t.Fatal(err)
	}
	c := &claimer{st: st, marks: marks}
	claim := func(id int64) claimResp {
		r := claimReq{id: id, resp: make(chan claimResp, 1)}
		c.run([]claimReq{r})
		return <-r.resp
	}
	if res := claim(held); res.err != nil || res.ok {
		t.Fatalf("text to a phone whose STOP waits in a spool: claimed %v (%v), want left queued", res.ok, res.err)
	}
	if m, _ := st.LoadForSend(ctx, held); m.Status != "queued" || m.Attempts != 0 {
		t.Fatalf("left text: %s with %d attempts, want queued with 0", m.Status, m.Attempts)
	}
	if res := claim(free); res.err != nil || !res.ok {
		t.Fatalf("text to another phone: claimed %v (%v), want claimed", res.ok, res.err)
	}
	if err := marks.Unmark(ctx, stopped); err != nil {
		t.Fatal(err)
	}
	if res := claim(held); res.err != nil || !res.ok {
		t.Fatalf("after the replay: claimed %v (%v), want claimed", res.ok, res.err)
	}
}

// With Redis away the marks cannot be read: nothing is claimed.
func TestClaimWithoutTheMarksClaimsNothing(t *testing.T) {
	st, brand := claimWorld(t)
	id := queueOne(t, st, brand, "+14155550192", "conversational")
	gone := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = gone.Close() })
	c := &claimer{st: st, marks: queue.NewSpooledOptOuts(gone, "x:")}
	r := claimReq{id: id, resp: make(chan claimResp, 1)}
	c.run([]claimReq{r})
	if res := <-r.resp; res.err == nil || res.ok {
		t.Fatalf("claimed %v (err %v) without reading the marks, want an error", res.ok, res.err)
	}
	if m, _ := st.LoadForSend(context.Background(), id); m.Status != "queued" {
		t.Fatalf("text is %s, want queued", m.Status)
	}
}

// countingCarrier accepts every text and counts the calls.
type countingCarrier struct{ calls atomic.Int64 }

func (c *countingCarrier) Send(context.Context, carrier.Outgoing) (carrier.Sent, error) {
	c.calls.Add(1)
	return carrier.Sent{SID: "SM" + hex.EncodeToString(make([]byte, 16))}, nil
}

func (c *countingCarrier) Lookup(context.Context, string, string, time.Time) ([]carrier.Found, error) {
	return nil, nil
}

// A sender held up past maxClaimAge between its claim and the carrier gives
// the claim back rather than calling: the reconciler counts on it.
func TestSenderGivesBackAClaimTooOldToSend(t *testing.T) {
	st, brand := claimWorld(t)
	ctx := context.Background()
	rdb, prefix := testRedis(t)
	cc := &countingCarrier{}
	s := NewSender(st, cc, queue.NewLimiter(rdb, prefix+"rl:"), "http://parley.test", slog.New(slog.DiscardHandler), nil)
	s.Start()
	t.Cleanup(s.Stop)
	if _, err := st.Pool.Exec(ctx, `UPDATE brands SET quiet_start = 0, quiet_end = 1440`); err != nil { // goes whatever the hour
		t.Fatal(err)
	}
	id := queueOne(t, st, brand, "+14155550193", "conversational")

	s.maxClaimAge = -time.Nanosecond // every claim is already too old
	err := s.Handle(ctx, queue.SendPayload{MessageID: id, From: "+15005550006", Queue: queue.Replies}, queue.Attempt{})
	var retry *queue.RetryAt
	if !errors.As(err, &retry) {
		t.Fatalf("handle: %v, want a retry", err)
	}
	if n := cc.calls.Load(); n != 0 {
		t.Fatalf("the carrier was called %d times on a claim too old", n)
	}
	if m, _ := st.LoadForSend(ctx, id); m.Status != "queued" || m.Attempts != 0 {
		var reason string
		_ = st.Pool.QueryRow(ctx, `SELECT status_reason FROM messages WHERE id = $1`, id).Scan(&reason)
		t.Fatalf("text: %s (%s) with %d attempts, want queued with 0", m.Status, reason, m.Attempts)
	}

	s.maxClaimAge = MaxClaimAge
	if err := s.Handle(ctx, queue.SendPayload{MessageID: id, From: "+15005550006", Queue: queue.Replies}, queue.Attempt{}); err != nil {
		t.Fatalf("handle: %v", err)
	}
	if n := cc.calls.Load(); n != 1 {
		t.Fatalf("the carrier was called %d times, want 1", n)
	}
}
