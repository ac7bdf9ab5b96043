package outbound_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

// bulk stores one campaign text to each phone from the brand number and
// enqueues them in grouped tasks, as a campaign does; no worker runs yet
// unless the bundle's does.
func (b *bundle) bulk(t *testing.T, tos []string) []int64 {
	t.Helper()
	ctx := context.Background()
	rows := make([]store.OutboundRow, 0, len(tos))
	for _, to := range tos {
		rows = append(rows, store.OutboundRow{BrandID: b.Brand.ID, From: apptest.BrandNumber, To: to, Body: "Campaign text for " + to,
			Purpose: "conversational", Origin: "campaign", Queue: queue.Bulk, Segments: 1, Encoding: "GSM-7"})
	}
	qd, err := b.Store.QueueOutbound(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(qd))
	for i, m := range qd {
		ids[i] = m.ID
	}
	if err := b.App.Outbox.EnqueueBulk(ctx, apptest.BrandNumber, ids, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// slowBulk queues n campaign texts on an mps number in grouped tasks, starts
// the worker and waits for the first at the carrier.
func slowBulk(t *testing.T, mps, base, n int) (*bundle, []string, []int64) {
	t.Helper()
	b := setup(t, apptest.Options{})
	b.rate(t, mps)
	ps := phones(base, n)
	ids := b.bulk(t, ps)
	b.StartWorker(t)
	apptest.WaitFor(t, 10*time.Second, "the first campaign text at the carrier", func() bool { return b.Twilio.Count() >= 1 })
	return b, ps, ids
}

// 90 campaign texts on a 20 mps number travel in two grouped tasks (64 and
// 26): every text reaches the carrier once, no one-second window holds more
// than 20, and the queue held two tasks, not 90.
func TestGroupedTasksSendEachOnceAtTheRate(t *testing.T) {
	b := setup(t, apptest.Options{})
	b.rate(t, 20)
	ps := phones(600, 90)
	ids := b.bulk(t, ps)
	if n := b.Count(t, `SELECT count(DISTINCT task_key) FROM messages WHERE id = ANY($1) AND enqueued_at IS NOT NULL`, ids); n != 2 {
		t.Fatalf("90 texts recorded in %d grouped tasks, want 2", n)
	}
	info, err := asynq.NewInspectorFromRedisClient(b.App.Redis).GetQueueInfo(b.Prefix + queue.Bulk)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 2 {
		t.Fatalf("the bulk queue holds %d tasks for 90 texts, want 2 grouped ones", info.Size)
	}
	b.StartWorker(t)
	b.waitAll(t, ids, "sent")
	b.eachOnce(t, ps)
	var at []time.Time
	for _, m := range b.Twilio.Sent() {
		at = append(at, m.At)
	}
	if max := maxInWindow(at, time.Second); max > 20 {
		t.Fatalf("%d texts reached the carrier in one second from a 20 mps number", max)
	}
}

// Each text of a grouped task is claimed just before its own slot, not when
// its group starts: the last phone of a group on a 2 mps number texts STOP
// while its text waits, and gets only the confirmation.
func TestStopWinsInsideGroupedTask(t *testing.T) {
	b, ps, ids := slowBulk(t, 2, 700, 8)
	if code, body := b.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(fmt.Sprintf("SM%032d", 7799), ps[7], "STOP")); code != 200 {
		t.Fatalf("STOP: %d %s", code, body)
	}
	b.waitAll(t, ids[:7], "sent")
	if m := b.waitStatus(t, ids[7], "suppressed", "sent"); m.Status != "suppressed" || m.StatusReason != "opted_out" {
		t.Fatalf("the last text is %s (%s), want suppressed: opted_out", m.Status, m.StatusReason)
	}
	apptest.WaitFor(t, 15*time.Second, "the opt-out confirmation", func() bool { return len(b.sentTo()[ps[7]]) >= 1 })
	if got := b.sentTo()[ps[7]]; len(got) != 1 || strings.HasPrefix(got[0], "Campaign text") {
		t.Fatalf("the phone that said STOP got %q, want only the confirmation", got)
	}
}

// A group mixes recipients inside and outside their quiet hours (noon in New
// York is 07:00 in Honolulu): the New York texts go; the Honolulu ones are
// held until 08:00 there and handed to tasks of their own, due then.
func TestGroupedTaskHandsOnTextsInQuietHours(t *testing.T) {
	b := setup(t, apptest.Options{})
	b.rate(t, 50)
	ny := []string{"+12125550101", "+12125550102", "+12125550103"}
	hi := []string{"+18085550101", "+18085550102"}
	ids := b.bulk(t, append(append([]string{}, ny...), hi...))
	b.StartWorker(t)
	b.waitAll(t, ids[:3], "sent")
	b.waitAll(t, ids[3:], "held")
	// The group hands its held texts on once all of its texts are done.
	apptest.WaitFor(t, 30*time.Second, "the held texts handed to tasks of their own", func() bool {
		return b.Count(t, `SELECT count(*) FROM messages WHERE id = ANY($1) AND task_key IS NULL`, ids[3:]) == len(ids[3:])
	})
	for _, id := range ids[3:] {
		var key *string
		var until time.Time
		if err := b.Store.Pool.QueryRow(context.Background(), `SELECT task_key, held_until FROM messages WHERE id = $1`, id).Scan(&key, &until); err != nil {
			t.Fatal(err)
		}
		if key != nil {
			t.Fatalf("held message %d is still recorded in grouped task %s, want a task of its own", id, *key)
		}
		if d := until.Sub(b.App.Sender.Now()); d < 50*time.Minute || d > 61*time.Minute {
			t.Fatalf("message %d held until %s (in %s), want 08:00 in Honolulu, about an hour away", id, until, d)
		}
		if state := b.App.Queue.TaskState(queue.Bulk, id); state != "scheduled" {
			t.Fatalf("held message %d has its own task %s, want scheduled", id, state)
		}
	}
	if got := b.sentTo(); len(got[hi[0]])+len(got[hi[1]]) != 0 {
		t.Fatalf("texts went to Honolulu at 07:00: %v", got)
	}
}

// A worker stopping in the middle of a grouped task on a 1 mps number hands
// the texts still waiting on, unclaimed: none is left sending, and the next
// worker sends each of them exactly once.
func TestStoppingWorkerHandsOnGroupedTexts(t *testing.T) {
	b, ps, ids := slowBulk(t, 1, 800, 6)
	b.StopWorker(t)
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE status = 'sending'`); n != 0 {
		t.Fatalf("%d texts left sending by a stopped worker", n)
	}
	sent := b.Twilio.Count()
	if sent > 2 {
		t.Fatalf("%d of 6 texts on a 1 mps number went out while the worker stopped", sent)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE id = ANY($1) AND status = 'queued' AND attempts = 0 AND task_key IS DISTINCT FROM $2`,
		ids, queue.BatchTaskID(ids)); n != 6-sent {
		t.Fatalf("%d texts queued in a new task with no attempt counted, want %d", n, 6-sent)
	}
	b.StartWorker(t)
	b.waitAll(t, ids, "sent")
	b.eachOnce(t, ps)
}

// The relay leaves the texts of a live grouped task alone, however overdue;
// when Redis loses the group, it gives each text a task of its own, and each
// goes once.
func TestRelayAndGroupedTasks(t *testing.T) {
	b := setup(t, apptest.Options{})
	b.rate(t, 50)
	ps := phones(900, 10)
	ids := b.bulk(t, ps)
	ctx := context.Background()
	if err := b.App.Queue.SetQueueMarker(ctx); err != nil {
		t.Fatal(err)
	}
	b.App.Relay.Overdue = 0
	b.App.Relay.MinAge = 0
	if n, err := b.App.Relay.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("relay enqueued %d (%v) for texts whose grouped task is pending, want 0", n, err)
	}
	for _, id := range ids {
		if state := b.App.Queue.TaskState(queue.Bulk, id); !strings.HasPrefix(state, "none") {
			t.Fatalf("message %d of a pending group got a task of its own (%s)", id, state)
		}
	}
	b.FlushQueue(t) // the group is gone with the rest of the queue
	n, err := b.App.Relay.RunOnce(ctx)
	if err != nil || n != len(ids) {
		t.Fatalf("relay enqueued %d (%v) after the queue was lost, want %d", n, err, len(ids))
	}
	if k := b.Count(t, `SELECT count(*) FROM messages WHERE id = ANY($1) AND task_key IS NOT NULL`, ids); k != 0 {
		t.Fatalf("%d texts still recorded in the lost group", k)
	}
	b.StartWorker(t)
	b.waitAll(t, ids, "sent")
	b.eachOnce(t, ps)
}
