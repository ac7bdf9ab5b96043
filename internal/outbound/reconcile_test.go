package outbound_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/queue"
)

// Twilio created the message and then answered 502: the send is ambiguous,
// never retried blindly; the lookup finds it and records its SID. One
// message at the carrier, never a second create.
func TestBadGatewayAfterCreateIsNotResent(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	b.Twilio.FailNextAfterCreate(1, 502, 0, "Bad Gateway")
	id := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550700", "body": "gate change: B7"})
	ambiguous := b.App.Metrics.SendOutcomes.WithLabelValues("ambiguous")
	apptest.WaitFor(t, 15*time.Second, "the 502", func() bool { return testutil.ToFloat64(ambiguous) == 1 })
	time.Sleep(1500 * time.Millisecond) // a retry (backoff 100 ms in tests) would have happened by now
	if m := b.message(t, id); m.Status != "sending" || m.StatusReason != "ambiguous_send" || b.Twilio.Attempts() != 1 {
		t.Fatalf("after the 502: %s/%s, %d creates; want sending/ambiguous_send and no resend", m.Status, m.StatusReason, b.Twilio.Attempts())
	}
	reconcile(t, b, 1)
	m := b.message(t, id)
	sent := b.Twilio.Sent()
	if len(sent) != 1 || m.Status != "sent" || m.TwilioSID != sent[0].SID {
		t.Fatalf("after reconcile: %s %q, carrier has %d; want sent with the carrier's SID", m.Status, m.TwilioSID, len(sent))
	}
	time.Sleep(500 * time.Millisecond)
	if n := b.Twilio.Attempts(); n != 1 {
		t.Fatalf("%d creates, want 1", n)
	}
}

// Twilio answered 503 without creating the message: still ambiguous until
// looked up; the lookup finds nothing, so the text is sent again, once.
func TestServiceUnavailableWithoutCreateIsResentOnce(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	b.Twilio.FailNext(1, 503, 0, "Service Unavailable")
	id := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550701", "body": "your table is ready"})
	ambiguous := b.App.Metrics.SendOutcomes.WithLabelValues("ambiguous")
	apptest.WaitFor(t, 15*time.Second, "the 503", func() bool { return testutil.ToFloat64(ambiguous) == 1 })
	time.Sleep(1500 * time.Millisecond)
	if m := b.message(t, id); m.Status != "sending" || b.Twilio.Attempts() != 1 || b.Twilio.Count() != 0 {
		t.Fatalf("after the 503: %s, %d creates, %d stored; want sending, no resend before the lookup", m.Status, b.Twilio.Attempts(), b.Twilio.Count())
	}
	reconcile(t, b, 1)
	m := b.waitStatus(t, id, "sent")
	time.Sleep(500 * time.Millisecond)
	if b.Twilio.Count() != 1 || b.Twilio.Attempts() != 2 || m.TwilioSID != b.Twilio.Sent()[0].SID {
		t.Fatalf("%d stored of %d creates; want the text sent once after the lookup", b.Twilio.Count(), b.Twilio.Attempts())
	}
}

// A task archived (its retries used up, as asynq does after MaxRetry
// failures) would leave its message queued for good: the relay finds the
// overdue message, deletes the archived task and enqueues a new one.
func TestRelayRevivesArchivedTask(t *testing.T) {
	b := setup(t, apptest.Options{})
	ctx := context.Background()
	id := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550702", "body": "archived"})
	if _, err := b.App.Relay.RunOnce(ctx); err != nil { // the queue's marker is set: nothing was lost
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(b.App.Redis)
	qname := b.Prefix + queue.Proactive
	if err := insp.ArchiveTask(qname, queue.TaskID(id)); err != nil {
		t.Fatal(err)
	}
	// Its own time is more than a minute past.
	if _, err := b.Store.Pool.Exec(ctx, `UPDATE messages SET created_at = now() - interval '2 minutes' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	n, err := b.App.Relay.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("relay enqueued %d, want 1", n)
	}
	info, err := insp.GetTaskInfo(qname, queue.TaskID(id))
	if err != nil || info.State != asynq.TaskStatePending {
		t.Fatalf("the message's task after the relay: %+v %v, want pending", info, err)
	}
	// A live task is left alone.
	if n, err := b.App.Relay.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep enqueued %d (%v), want 0", n, err)
	}
	b.StartWorker(t)
	b.waitStatus(t, id, "sent")
	if n := b.Twilio.Count(); n != 1 {
		t.Fatalf("%d creates, want 1", n)
	}
}

// Finality comes from Parley's count of attempts, not asynq's retry
// counter: a text that fails retryably at its last attempt is failed, even
// on a fresh task.
func TestAttemptsLimitFailsTheText(t *testing.T) {
	b := setup(t, apptest.Options{})
	ctx := context.Background()
	id := b.send(t, map[string]any{"brand": "demo-air", "to": "+14045550703", "body": "last try"})
	if _, err := b.Store.Pool.Exec(ctx, `UPDATE messages SET attempts = $2 WHERE id = $1`, id, outbound.MaxSendAttempts-1); err != nil {
		t.Fatal(err)
	}
	b.Twilio.FailNext(1, 429, 20429, "Too Many Requests")
	b.StartWorker(t)
	m := b.waitStatus(t, id, "failed")
	if m.StatusReason != "retries_exhausted" || m.ErrorCode != 20429 {
		t.Fatalf("%+v, want failed/retries_exhausted with 20429", m)
	}
	time.Sleep(500 * time.Millisecond)
	if n := b.Twilio.Attempts(); n != 1 {
		t.Fatalf("%d creates, want 1 (no retry after the last attempt)", n)
	}
}
