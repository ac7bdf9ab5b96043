package outbound_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

func benchN(def int) int {
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_MESSAGES")); err == nil && v > 0 {
		return v
	}
	return def
}

const benchConcurrency = 500

// queueBulk stores n outbound texts from `from` (spread over 2,000 phones) and
// enqueues their tasks on q, without a worker running: grouped tasks on the
// bulk queue, one task per text on the others.
func queueBulk(b testing.TB, env *apptest.Env, from, q string, n int) []store.Queued {
	ctx := context.Background()
	var all []store.Queued
	for start := 0; start < n; start += 500 {
		rows := make([]store.OutboundRow, 0, 500)
		for i := start; i < min(start+500, n); i++ {
			rows = append(rows, store.OutboundRow{BrandID: env.Brand.ID, From: from, To: fmt.Sprintf("+1646%07d", 5550000+i%2000),
				Body: "Your flight DA 100 departs on time from gate B7.", Purpose: "conversational", Origin: "campaign",
				Queue: q, Segments: 1, Encoding: "GSM-7"})
		}
		qd, err := env.Store.QueueOutbound(ctx, rows)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, qd...)
		if q == queue.Bulk { // grouped tasks, as campaigns enqueue them
			ids := make([]int64, len(qd))
			for i, m := range qd {
				ids[i] = m.ID
			}
			if err := env.App.Outbox.EnqueueBulk(ctx, from, ids, time.Time{}); err != nil {
				b.Fatal(err)
			}
			continue
		}
		ids := make([]int64, len(qd))
		for i, m := range qd {
			if err := env.App.Queue.EnqueueSend(ctx, queue.SendPayload{MessageID: m.ID, From: from}, q, time.Time{}); err != nil {
				b.Fatal(err)
			}
			ids[i] = m.ID
		}
		if err := env.Store.MarkEnqueued(ctx, ids); err != nil {
			b.Fatal(err)
		}
	}
	return all
}

// BenchmarkSendThroughput: N queued texts (20,000 by default) through the
// whole send path — load, consent/quiet-hours/cap checks, the shared rate
// limiter, sending/sent bookkeeping, twilio-go to a zero-latency fake —
// against the raw asynq rate (same tasks pre-enqueued, no-op handler, same
// concurrency) measured in the same run.
func BenchmarkSendThroughput(b *testing.B) {
	for _, q := range []string{queue.Bulk, queue.Replies} {
		b.Run(q, func(b *testing.B) { sendThroughput(b, q) })
	}
}

func sendThroughput(b *testing.B, q string) {
	n := benchN(20000)
	for i := 0; i < b.N; i++ {
		env := apptest.New(b, apptest.Options{Concurrency: benchConcurrency})
		if _, err := app.BrandAdd(context.Background(), env.Store, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air",
			Numbers: []string{apptest.BrandNumber}, MPS: 10000}); err != nil {
			b.Fatal(err)
		}
		raw := apptest.RawAsynqRate(b, env, n, benchConcurrency)
		queueBulk(b, env, apptest.BrandNumber, q, n)
		// Steady state: not the relay's one full sweep of a queue it has
		// never seen (its marker is missing until then).
		if err := env.App.Queue.SetQueueMarker(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		env.StartWorker(b)
		for env.Twilio.Count() < n {
			time.Sleep(5 * time.Millisecond)
		}
		elapsed := time.Since(start)
		rate := float64(n) / elapsed.Seconds()
		apptest.WaitFor(b, 30*time.Second, "every message marked sent", func() bool {
			return env.Count(b, `SELECT count(*) FROM messages WHERE status = 'sent'`) == n
		})
		if c := env.Twilio.Count(); c != n {
			b.Fatalf("the carrier got %d texts for %d messages", c, n)
		}
		late := testutil.ToFloat64(env.App.Metrics.SendOutcomes.WithLabelValues("late"))
		b.ReportMetric(late, "late_wakes")
		b.ReportMetric(rate, "parley_msg/s")
		b.ReportMetric(raw, "raw_asynq_task/s")
		b.ReportMetric(rate/raw, "ratio")
		b.Logf("send throughput, %s queue, %d messages, concurrency %d: parley %.0f msg/s, raw asynq %.0f task/s, ratio %.2fx",
			q, n, benchConcurrency, rate, raw, rate/raw)
	}
}

// BenchmarkPacing: one number at 50 mps and one at 225 mps, each with 10 s of
// queued texts, sent at once; the largest count in any one-second window at
// the carrier (limit: the mps) and the mean rate (goal: within 2% of the mps).
func BenchmarkPacing(b *testing.B) {
	secs := benchN(10)
	for i := 0; i < b.N; i++ {
		rec := &slotRecorder{}
		env := apptest.New(b, apptest.Options{Concurrency: benchConcurrency, App: func(o *app.Options) { o.WrapLimiter = rec.wrap }})
		slow, fast := "+15005550006", "+15005550007"
		if _, err := app.BrandAdd(context.Background(), env.Store, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air",
			Numbers: []string{slow}, MPS: 50}); err != nil {
			b.Fatal(err)
		}
		if _, err := app.BrandAdd(context.Background(), env.Store, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air",
			Numbers: []string{fast}, MPS: 225}); err != nil {
			b.Fatal(err)
		}
		queueBulk(b, env, slow, queue.Bulk, 50*secs)
		queueBulk(b, env, fast, queue.Bulk, 225*secs)
		env.StartWorker(b)
		total := 275 * secs
		for env.Twilio.Count() < total {
			time.Sleep(20 * time.Millisecond)
		}
		byFrom := map[string][]time.Time{}
		for _, m := range env.Twilio.Sent() {
			byFrom[m.From] = append(byFrom[m.From], m.At)
		}
		slots := rec.byNumber()
		for _, p := range []struct {
			number string
			mps    int
		}{{slow, 50}, {fast, 225}} {
			at := byFrom[p.number]
			sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
			peak := maxInWindow(at, time.Second)
			slotPeak := maxInWindow(slots[p.number], time.Second)
			mean := float64(len(at)-1) / at[len(at)-1].Sub(at[0]).Seconds()
			b.ReportMetric(float64(slotPeak), fmt.Sprintf("peak_1s_slots_at_%dmps", p.mps))
			b.ReportMetric(float64(peak), fmt.Sprintf("peak_1s_carrier_at_%dmps", p.mps))
			b.ReportMetric(mean, fmt.Sprintf("mean_rate_at_%dmps", p.mps))
			b.Logf("pacing %d mps: %d texts, largest one-second window: %d slots booked, %d arrivals at the fake carrier; mean %.2f/s (%.1f%% of the limit)",
				p.mps, len(at), slotPeak, peak, mean, 100*mean/float64(p.mps))
			if slotPeak > p.mps {
				b.Errorf("%d slots booked in one second for a %d mps number", slotPeak, p.mps)
			}
		}
	}
}

// BenchmarkReplyUnderBulk: 20,000 bulk texts wait on a 225 mps number; replies
// to people on the same number are queued 10 a second while the campaign runs.
// Queueing delay = time from the reply's insert to its arrival at the carrier.
func BenchmarkReplyUnderBulk(b *testing.B) {
	n := benchN(20000)
	for i := 0; i < b.N; i++ {
		env := apptest.New(b, apptest.Options{Concurrency: benchConcurrency})
		if _, err := app.BrandAdd(context.Background(), env.Store, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air",
			Numbers: []string{apptest.BrandNumber}, MPS: 225}); err != nil {
			b.Fatal(err)
		}
		queueBulk(b, env, apptest.BrandNumber, queue.Bulk, n)
		env.StartWorker(b)
		time.Sleep(2 * time.Second) // the campaign is in full flow
		const replies = 100
		created := map[string]time.Time{}
		ctx := context.Background()
		for r := 0; r < replies; r++ {
			to := fmt.Sprintf("+1917%07d", 5550000+r)
			t0 := time.Now()
			qd, err := env.Store.QueueOutbound(ctx, []store.OutboundRow{{BrandID: env.Brand.ID, From: apptest.BrandNumber, To: to,
				Body: fmt.Sprintf("Agent reply %d", r), Purpose: "conversational", Origin: "agent", Queue: queue.Replies, Segments: 1, Encoding: "GSM-7"}})
			if err != nil {
				b.Fatal(err)
			}
			if err := env.App.Queue.EnqueueSend(ctx, queue.SendPayload{MessageID: qd[0].ID, From: apptest.BrandNumber}, queue.Replies, time.Time{}); err != nil {
				b.Fatal(err)
			}
			created[to] = t0
			time.Sleep(100 * time.Millisecond)
		}
		var delays []time.Duration
		deadline := time.Now().Add(30 * time.Second)
		for len(delays) < replies && time.Now().Before(deadline) {
			delays = delays[:0]
			for _, m := range env.Twilio.Sent() {
				if t0, ok := created[m.To]; ok {
					delays = append(delays, m.At.Sub(t0))
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(delays) < replies {
			b.Fatalf("only %d of %d replies sent", len(delays), replies)
		}
		bulkSent := env.Twilio.Count() - replies
		sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
		p50, p99 := delays[len(delays)/2], delays[len(delays)*99/100]
		b.ReportMetric(float64(p50.Microseconds())/1000, "reply_p50_ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "reply_p99_ms")
		if p99 >= time.Second {
			b.Errorf("reply p99 %s, goal under 1 s", p99)
		}
		b.Logf("reply queueing delay with %d bulk texts queued on the same 225 mps number (%d bulk sent meanwhile): p50 %s, p99 %s, max %s",
			n, bulkSent, p50, p99, delays[len(delays)-1])
	}
}
