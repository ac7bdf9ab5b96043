package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/queue"
)

// rate gives demo-air's number mps messages per second.
func (b *bundle) rate(t *testing.T, mps int) {
	t.Helper()
	if _, err := app.BrandAdd(context.Background(), b.Store, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air",
		Numbers: []string{apptest.BrandNumber}, MPS: mps}); err != nil {
		t.Fatal(err)
	}
}

// replies has each phone write in, then queues one conversational answer to
// each through the API (the replies queue: the customer wrote in the last
// 24 hours), and returns their ids.
func (b *bundle) replies(t *testing.T, phones []string, sidBase int) []int64 {
	t.Helper()
	var ids []int64
	for i, p := range phones {
		if code, body := b.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(fmt.Sprintf("SM%032d", sidBase+i), p, "hi")); code != 200 {
			t.Fatalf("inbound: %d %s", code, body)
		}
	}
	for _, p := range phones {
		ids = append(ids, b.send(t, map[string]any{"brand": "demo-air", "to": p, "body": "Answer for " + p}))
	}
	for _, id := range ids {
		if n := b.Count(t, `SELECT count(*) FROM messages WHERE id = $1 AND queue = 'replies'`, id); n != 1 {
			t.Fatalf("message %d is not on the replies queue", id)
		}
	}
	return ids
}

func phones(base, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("+1404556%04d", base+i))
	}
	return out
}

// waitAll waits until every message has one of the statuses, however long
// a loaded machine takes (the test's own timeout is the limit).
func (b *bundle) waitAll(t *testing.T, ids []int64, want ...string) {
	t.Helper()
	for _, id := range ids {
		deadline := time.Now().Add(2 * time.Minute)
		for m := b.message(t, id); !slices.Contains(want, m.Status); m = b.message(t, id) {
			if time.Now().After(deadline) {
				var enq, attempts int
				_ = b.Store.Pool.QueryRow(context.Background(), `SELECT (enqueued_at IS NOT NULL)::int, attempts FROM messages WHERE id = $1`, id).Scan(&enq, &attempts)
				t.Fatalf("message %d is still %s (%s; enqueued %d, attempts %d, task %s) after 2 minutes, want %v", id, m.Status, m.StatusReason, enq, attempts,
					b.App.Queue.TaskState(queue.Replies, id), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// sentTo counts the texts the carrier received per phone.
func (b *bundle) sentTo() map[string][]string {
	got := map[string][]string{}
	for _, m := range b.Twilio.Sent() {
		got[m.To] = append(got[m.To], m.Body)
	}
	return got
}

// slowReplies queues n replies on a 1 mps number, starts the worker and
// waits for the first at the carrier.
func slowReplies(t *testing.T, base, n int) (*bundle, []string, []int64) {
	t.Helper()
	b := setup(t, apptest.Options{})
	b.rate(t, 1)
	ps := phones(base, n)
	ids := b.replies(t, ps, 5000+base)
	b.StartWorker(t)
	apptest.WaitFor(t, 10*time.Second, "the first reply at the carrier", func() bool { return b.Twilio.Count() >= 1 })
	return b, ps, ids
}

// eachOnce: every phone got exactly one text.
func (b *bundle) eachOnce(t *testing.T, ps []string) {
	t.Helper()
	got := b.sentTo()
	for _, p := range ps {
		if len(got[p]) != 1 {
			t.Fatalf("%s got %d texts, want 1", p, len(got[p]))
		}
	}
}

// A 1 mps number with 8 replies queued to 8 phones: the 8th phone texts STOP
// right away, while its reply waits for a slot. The STOP wins: the phone
// gets only the confirmation.
func TestStopWinsWhileWaitingForSlot(t *testing.T) {
	b, ps, ids := slowReplies(t, 100, 8)
	if code, body := b.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(fmt.Sprintf("SM%032d", 5199), ps[7], "STOP")); code != 200 {
		t.Fatalf("STOP: %d %s", code, body)
	}
	b.waitAll(t, ids[:7], "sent")
	if m := b.waitStatus(t, ids[7], "suppressed", "sent"); m.Status != "suppressed" || m.StatusReason != "opted_out" {
		t.Fatalf("the 8th reply is %s (%s), want suppressed: opted_out", m.Status, m.StatusReason)
	}
	apptest.WaitFor(t, 15*time.Second, "the opt-out confirmation", func() bool { return len(b.sentTo()[ps[7]]) >= 1 })
	if got := b.sentTo()[ps[7]]; len(got) != 1 || got[0] == "Answer for "+ps[7] {
		t.Fatalf("the phone that said STOP got %q, want only the confirmation", got)
	}
}

// Two tasks of one message run at the same moment (the relay enqueued it
// again while the first still waited): one text at the carrier.
func TestTwoTasksOfOneMessageSendOnce(t *testing.T) {
	b := setup(t, apptest.Options{})
	for round := 0; round < 5; round++ {
		id := b.send(t, map[string]any{"brand": "demo-air", "to": fmt.Sprintf("+1404557%04d", round), "body": "once"})
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for { // as the queue would: a retry at a time is run again then
					err := b.App.Sender.Handle(context.Background(), queue.SendPayload{MessageID: id, From: apptest.BrandNumber, Queue: queue.Proactive},
						queue.Attempt{MaxRetry: 20})
					var r *queue.RetryAt
					if !errors.As(err, &r) {
						errs[i] = err
						return
					}
					time.Sleep(time.Until(r.At))
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("handler: %v", err)
			}
		}
		if m := b.message(t, id); m.Status != "sent" {
			t.Fatalf("message %d is %s, want sent", id, m.Status)
		}
	}
	if n := b.Twilio.Count(); n != 5 {
		t.Fatalf("%d texts at the carrier for 5 messages handled 4 times each", n)
	}
}

// A stopping worker gives back the texts still waiting for a slot, unclaimed:
// none is left sending, none is sent while it stops, and another worker
// sends each of them exactly once.
func TestShutdownGivesBackWaitingTexts(t *testing.T) {
	b, ps, ids := slowReplies(t, 200, 6)
	b.StopWorker(t)
	sentWhileStopping := b.Twilio.Count()
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE status = 'sending'`); n != 0 {
		t.Fatalf("%d texts left sending by a stopped worker", n)
	}
	if sentWhileStopping > 2 {
		t.Fatalf("%d of 6 texts on a 1 mps number went out while the worker stopped, want the waiting ones given back", sentWhileStopping)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE direction = 'outbound' AND status = 'queued' AND attempts = 0`); n != 6-sentWhileStopping {
		t.Fatalf("%d texts queued with no attempt counted, want %d", n, 6-sentWhileStopping)
	}
	b.StartWorker(t)
	b.waitAll(t, ids, "sent")
	b.eachOnce(t, ps)
}

// Redis loses its data (a flush) while replies wait for their slots and new
// ones keep coming: the number still never exceeds its rate at the carrier,
// and every text goes exactly once.
func TestRedisFlushDoesNotBurst(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	b.rate(t, 5)
	ps := phones(300, 30)
	ids := b.replies(t, ps[:15], 5300)
	apptest.WaitFor(t, 10*time.Second, "the first replies at the carrier", func() bool { return b.Twilio.Count() >= 3 })
	b.FlushQueue(t)
	ids = append(ids, b.replies(t, ps[15:], 5315)...)
	b.waitAll(t, ids, "sent")
	var at []time.Time
	for _, m := range b.Twilio.Sent() {
		at = append(at, m.At)
	}
	if max := maxInWindow(at, time.Second); max > 5 {
		var gaps []string
		for i := 1; i < len(at); i++ {
			gaps = append(gaps, at[i].Sub(at[i-1]).Round(time.Millisecond).String())
		}
		t.Fatalf("%d texts reached the carrier in one second from a 5 mps number after Redis lost the limiter; gaps %v", max, gaps)
	}
	b.eachOnce(t, ps)
}

// pausingLimiter stalls the process after some of the limiter's answers, as
// a pause (GC, a busy CPU) between Redis answering and the sender acting on
// the answer would: the sender then wakes after its slot.
type pausingLimiter struct {
	outbound.Limiter
	mu sync.Mutex
	n  int
}

func (l *pausingLimiter) pause() {
	l.mu.Lock()
	l.n++
	n := l.n
	l.mu.Unlock()
	if n%3 == 0 {
		time.Sleep(60 * time.Millisecond)
	}
}

func (l *pausingLimiter) ReserveMany(ctx context.Context, number string, mps int, maxWait time.Duration, count int) ([]time.Time, time.Time, error) {
	slots, next, err := l.Limiter.ReserveMany(ctx, number, mps, maxWait, count)
	l.pause()
	return slots, next, err
}

func (l *pausingLimiter) Reserve(ctx context.Context, number string, mps int, maxWait time.Duration) (time.Time, bool, error) {
	slot, ok, err := l.Limiter.Reserve(ctx, number, mps, maxWait)
	l.pause()
	return slot, ok, err
}

// A sender that learns of its slot late (the process paused) books again
// rather than sending late and crowding the next slots: at the carrier the
// number never exceeds its rate, replies and proactive texts alike.
func TestLateSenderBooksAgain(t *testing.T) {
	b := setup(t, apptest.Options{App: func(o *app.Options) {
		o.WrapLimiter = func(l outbound.Limiter) outbound.Limiter { return &pausingLimiter{Limiter: l} }
	}})
	b.rate(t, 5)
	ids := b.replies(t, phones(400, 12), 5400)
	for _, p := range phones(500, 12) {
		ids = append(ids, b.send(t, map[string]any{"brand": "demo-air", "to": p, "body": "proactive"}))
	}
	b.StartWorker(t)
	b.waitAll(t, ids, "sent")
	var at []time.Time
	for _, m := range b.Twilio.Sent() {
		at = append(at, m.At)
	}
	if len(at) != len(ids) {
		t.Fatalf("%d texts at the carrier for %d messages", len(at), len(ids))
	}
	if max := maxInWindow(at, time.Second); max > 5 {
		t.Fatalf("%d texts reached the carrier in one second from a 5 mps number whose sender paused", max)
	}
}
