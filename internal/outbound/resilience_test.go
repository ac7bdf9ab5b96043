package outbound_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

// A request that hangs past the client's timeout is ambiguous: the message
// stays sending (never resent), and the reconciler finds it at the carrier.
func TestHangingRequestIsReconciled(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	b.Twilio.Hang(8 * time.Second) // the client gives up after 5 s
	id := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550100", "body": "did this go?"})
	ambiguous := b.App.Metrics.SendOutcomes.WithLabelValues("ambiguous")
	apptest.WaitFor(t, 15*time.Second, "the client to give up on the hanging request", func() bool {
		return testutil.ToFloat64(ambiguous) == 1
	})
	b.Twilio.Hang(0)
	time.Sleep(1500 * time.Millisecond) // a retry (backoff 100 ms in tests) would have happened by now
	if m := b.message(t, id); m.Status != "sending" || b.Twilio.Attempts() != 1 {
		t.Fatalf("after the timeout: %s, %d attempts; want sending and no resend", m.Status, b.Twilio.Attempts())
	}
	reconcile(t, b, 1)
	m := b.message(t, id)
	if m.Status != "sent" || m.TwilioSID != b.Twilio.Sent()[0].SID {
		t.Fatalf("after reconcile: %+v", m)
	}
}

// A worker killed between marking sending and calling the carrier: the task
// runs again but does not resend; the reconciler decides. The carrier has no
// such text, so each goes back to queued and is sent, once.
func TestKilledWorkerNeverResends(t *testing.T) {
	b := setup(t, apptest.Options{})
	ctx := context.Background()
	if _, err := b.Store.UpsertContact(ctx, store.ContactUpsert{Phones: []string{"+14045550101"}, Consent: []store.ConsentChange{
		{BrandID: b.Brand.ID, Purpose: "marketing", Status: "opted_in", Source: "web_form", Evidence: "form"}}}); err != nil {
		t.Fatal(err)
	}
	mk := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550101", "body": "20% off", "purpose": "marketing"})
	cv := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550102", "body": "your bag is found"})
	for _, id := range []int64{mk, cv} {
		if won, err := b.Store.MarkSending(ctx, id); !won || err != nil { // the dead worker got this far
			t.Fatal(won, err)
		}
	}
	b.StartWorker(t) // the tasks are still queued: they run again
	left := b.App.Metrics.SendOutcomes.WithLabelValues("left_to_reconciler")
	apptest.WaitFor(t, 10*time.Second, "both tasks to run again", func() bool { return testutil.ToFloat64(left) == 2 })
	if n := b.Twilio.Attempts(); n != 0 {
		t.Fatalf("%d sends after a worker died mid-send, want 0", n)
	}
	reconcile(t, b, 2)
	for _, id := range []int64{mk, cv} {
		b.waitStatus(t, id, "sent")
	}
	sent := b.Twilio.Sent()
	if len(sent) != 2 || sent[0].To == sent[1].To {
		t.Fatalf("the carrier got %d creates, want one per text", len(sent))
	}
}

// The carrier cannot be asked (every lookup fails): the message stays
// sending while that is recent, and becomes unknown — never resent, its
// conversation flagged — once the attempt is more than a day old.
func TestUnanswerableLookupEndsUnknown(t *testing.T) {
	b := setup(t, apptest.Options{})
	ctx := context.Background()
	id := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550105", "body": "did it go?"})
	if won, err := b.Store.MarkSending(ctx, id); !won || err != nil {
		t.Fatal(won, err)
	}
	b.Twilio.FailNextLists(-1, 503, 0, "Service Unavailable")
	b.App.Reconciler.After, b.App.Reconciler.AmbiguousAfter = 0, 0
	if n, err := b.App.Reconciler.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("reconcile with failing lookups: %d resolved, %v", n, err)
	}
	if m := b.message(t, id); m.Status != "sending" {
		t.Fatalf("a recent attempt whose lookup failed is %s, want sending", m.Status)
	}
	if _, err := b.Store.Pool.Exec(ctx, `UPDATE messages SET sending_at = sending_at - interval '25 hours' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	reconcile(t, b, 1)
	m := b.message(t, id)
	if m.Status != "unknown" || m.StatusReason != "carrier_lookup_inconclusive" || b.Twilio.Attempts() != 0 {
		t.Fatalf("after a day of failing lookups: %s/%s, %d creates; want unknown and none", m.Status, m.StatusReason, b.Twilio.Attempts())
	}
	if n := b.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND needs_attention LIKE 'a reply may not have been delivered%'`, m.ConversationID); n != 1 {
		t.Error("the conversation is not flagged")
	}
}

// Status callbacks that arrive before the create call returned (matched by
// ?m=) are not undone when the SID is then recorded.
func TestCallbackBeforeCreateReturns(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	b.Twilio.OnCreate(func(m twiliotest.Message) {
		u, _ := url.Parse(m.StatusCallback)
		path := u.Path + "?" + u.RawQuery
		for _, st := range []string{"sent", "delivered"} {
			form := url.Values{"MessageSid": {m.SID}, "MessageStatus": {st}, "AccountSid": {apptest.AccountSID}, "From": {m.From}, "To": {m.To}}
			if code, body := b.PostForm(t, path, form); code != 200 {
				t.Errorf("callback: %d %s", code, body)
			}
		}
	})
	id := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550103", "body": "quick"})
	b.waitStatus(t, id, "delivered")
	time.Sleep(300 * time.Millisecond)
	if m := b.message(t, id); m.Status != "delivered" || m.TwilioSID != b.Twilio.Sent()[0].SID {
		t.Fatalf("%+v", m)
	}
}

// Redis loses every queued task: the relay enqueues the outbox again and each
// text is sent exactly once.
func TestRedisFlushedWithQueuedWork(t *testing.T) {
	b := setup(t, apptest.Options{})
	var ids []int64
	for i := 0; i < 10; i++ {
		ids = append(ids, b.send(t, map[string]any{"brand": "demo-air", "to": fmt.Sprintf("+1404555%04d", 200+i), "body": "hi"}))
	}
	b.FlushQueue(t)
	b.StartWorker(t)
	for _, id := range ids {
		b.waitStatus(t, id, "sent")
	}
	time.Sleep(500 * time.Millisecond)
	if n := b.Twilio.Count(); n != 10 {
		t.Fatalf("%d sends, want 10", n)
	}
	seen := map[string]bool{}
	for _, m := range b.Twilio.Sent() {
		if seen[m.To] {
			t.Fatalf("%s texted twice", m.To)
		}
		seen[m.To] = true
	}
}

// A crash between commit and enqueue: the row exists, the task never did.
func TestRelayEnqueuesLostTasks(t *testing.T) {
	b := setup(t, apptest.Options{})
	ctx := context.Background()
	rows, err := b.Store.QueueOutbound(ctx, []store.OutboundRow{{BrandID: b.Brand.ID, From: apptest.BrandNumber,
		To: "+14045550300", Body: "lost task", Purpose: "conversational", Origin: "api", Queue: queue.Proactive, Segments: 1, Encoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	b.App.Relay.MinAge = 0
	b.StartWorker(t)
	b.waitStatus(t, rows[0].ID, "sent")
}

// STOP arrives while a text is queued: the text is suppressed at send time and
// the opt-out confirmation is the only text the phone gets.
func TestStopWhileQueued(t *testing.T) {
	b := setup(t, apptest.Options{})
	phone := "+14045550400"
	id := b.send(t, map[string]any{"brand": "demo-air", "to": phone, "body": "Your upgrade offer"})
	if code, body := b.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM"+fmt.Sprintf("%032d", 4400), phone, "STOP")); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	b.StartWorker(t)
	m := b.waitStatus(t, id, "suppressed")
	if m.StatusReason != "opted_out" {
		t.Errorf("reason %q", m.StatusReason)
	}
	apptest.WaitFor(t, 10*time.Second, "the opt-out confirmation", func() bool { return b.Twilio.Count() == 1 })
	time.Sleep(300 * time.Millisecond)
	sent := b.Twilio.Sent()
	if len(sent) != 1 || sent[0].To != phone || sent[0].Body == "Your upgrade offer" {
		t.Fatalf("the phone got %+v, want only the confirmation", sent)
	}
	// Anything later is suppressed too, confirmation or not.
	id2 := b.send(t, map[string]any{"brand": "demo-air", "to": phone, "body": "hello?"})
	b.waitStatus(t, id2, "suppressed")
}

// Two worker processes share one number's rate limit: never more than mps
// texts in any one-second window at the carrier.
func TestTwoWorkersShareRateLimit(t *testing.T) {
	rec := &slotRecorder{}
	wrap := func(o *app.Options) { o.WrapLimiter = rec.wrap }
	b := setup(t, apptest.Options{Worker: true, App: wrap})
	apptest.New(t, apptest.Options{Worker: true, Share: b.Env, App: wrap})
	ctx := context.Background()
	if _, err := app.BrandAdd(ctx, b.Store, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air", Numbers: []string{apptest.BrandNumber}, MPS: 5}); err != nil {
		t.Fatal(err)
	}
	const n = 25
	var ids []int64
	for i := 0; i < n; i++ {
		ids = append(ids, b.send(t, map[string]any{"brand": "demo-air", "to": fmt.Sprintf("+1404555%04d", 500+i), "body": "paced"}))
	}
	b.waitAll(t, ids, "sent")
	var at []time.Time
	for _, m := range b.Twilio.Sent() {
		at = append(at, m.At)
	}
	if len(at) != n {
		t.Fatalf("%d sends, want %d", len(at), n)
	}
	if max := maxInWindow(rec.times(), time.Second); max > 5 {
		t.Fatalf("%d slots granted in one second to a 5 mps number", max)
	}
	if max := maxInWindow(at, time.Second); max > 5 {
		t.Fatalf("%d sends reached the carrier in one second from a 5 mps number", max)
	}
}

// slotRecorder records every slot the limiter grants, across processes.
type slotRecorder struct {
	mu   sync.Mutex
	at   []time.Time
	from []string
}

func (r *slotRecorder) byNumber() map[string][]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string][]time.Time{}
	for i, t := range r.at {
		m[r.from[i]] = append(m[r.from[i]], t)
	}
	return m
}

func (r *slotRecorder) wrap(l outbound.Limiter) outbound.Limiter { return recordingLimiter{l, r} }

func (r *slotRecorder) times() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

type recordingLimiter struct {
	outbound.Limiter
	r *slotRecorder
}

func (l recordingLimiter) note(number string, slots ...time.Time) {
	l.r.mu.Lock()
	defer l.r.mu.Unlock()
	for _, at := range slots {
		l.r.at = append(l.r.at, at)
		l.r.from = append(l.r.from, number)
	}
}

func (l recordingLimiter) ReserveMany(ctx context.Context, number string, mps int, maxWait time.Duration, count int) ([]time.Time, time.Time, error) {
	slots, next, err := l.Limiter.ReserveMany(ctx, number, mps, maxWait, count)
	l.note(number, slots...)
	return slots, next, err
}

func (l recordingLimiter) Reserve(ctx context.Context, number string, mps int, maxWait time.Duration) (time.Time, bool, error) {
	slot, ok, err := l.Limiter.Reserve(ctx, number, mps, maxWait)
	if ok && err == nil {
		l.note(number, slot)
	}
	return slot, ok, err
}

func (l recordingLimiter) TakeNow(ctx context.Context, number string, mps int) (time.Time, bool, error) {
	slot, ok, err := l.Limiter.TakeNow(ctx, number, mps)
	if ok && err == nil {
		l.note(number, slot)
	}
	return slot, ok, err
}

func maxInWindow(at []time.Time, w time.Duration) int {
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	best, j := 0, 0
	for i := range at {
		for at[i].Sub(at[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// reconcile runs the reconciler until it has resolved want messages. The
// worker's own periodic sweep may hold the job lock at that moment, in which
// case a run does nothing and is tried again.
func reconcile(t *testing.T, b *bundle, want int) {
	t.Helper()
	b.App.Reconciler.After, b.App.Reconciler.AmbiguousAfter = 0, 0
	got := 0
	apptest.WaitFor(t, 10*time.Second, fmt.Sprintf("the reconciler to resolve %d messages", want), func() bool {
		n, err := b.App.Reconciler.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got += n
		return got >= want
	})
}
