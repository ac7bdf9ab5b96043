package campaign_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/store"
)

const benchConcurrency = 500

// BenchmarkCampaign: a campaign to PARLEY_BENCH_RECIPIENTS people (default
// 100,000) opted in, plus 5% more opted out, through the zero-latency fake
// Twilio from a number at 10,000 mps (unpaced): the time to materialise the
// recipients, the send rate from the worker's start to the last text at
// the carrier, and its ratio to the raw asynq rate measured in the same
// run; the sends must be exactly one per eligible recipient and none to an
// opted-out phone.
func BenchmarkCampaign(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_RECIPIENTS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		env := apptest.New(b, apptest.Options{Concurrency: benchConcurrency, App: func(o *app.Options) { o.CampaignEvery = 50 * time.Millisecond }})
		ctx := context.Background()
		if _, err := env.Store.Pool.Exec(ctx, `UPDATE brand_numbers SET mps = 10000`); err != nil {
			b.Fatal(err)
		}
		raw := apptest.RawAsynqRate(b, env, n, benchConcurrency)
		out := n / 20
		if _, err := env.Store.Pool.Exec(ctx, `
			WITH c AS (INSERT INTO contacts (name, attributes) SELECT 'Member ' || g, jsonb_build_object('tier', 'gold')
				FROM generate_series(1, $1::int) g RETURNING id),
			p AS (INSERT INTO contact_phones (phone, contact_id) SELECT '+1646' || (2000000 + id)::text, id FROM c RETURNING phone, contact_id)
			INSERT INTO consent_events (brand_id, phone, purpose, status, source)
			SELECT $2, phone, 'marketing', CASE WHEN contact_id % 21 = 0 THEN 'opted_out' ELSE 'opted_in' END, 'import' FROM p`,
			n+out+1, env.Brand.ID); err != nil {
			b.Fatal(err)
		}
		eligible := env.Count(b, `SELECT count(*) FROM consent_events WHERE status = 'opted_in'`)
		svc := campaign.NewService(env.Store, env.App.Outbox, env.PublicURL)
		cp, err := svc.Create(ctx, env.Brand, campaign.Input{Name: "Bench", Body: "Hi {{.FirstName}}, your gold offer is here. Reply STOP to opt out."})
		if err != nil {
			b.Fatal(err)
		}
		if err := env.Store.ScheduleCampaign(ctx, cp.ID, time.Now(), ""); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		got, started, err := env.Store.StartCampaign(ctx, cp.ID, store.Audience{}, 1)
		materialise := time.Since(start)
		if err != nil || !started || int(got) != eligible {
			b.Fatalf("materialised %d of %d (%v, %v)", got, eligible, started, err)
		}
		if err := env.App.Queue.SetQueueMarker(ctx); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		env.StartWorker(b)
		var fannedOut time.Duration
		for tick := 0; env.Twilio.Count() < eligible; tick++ {
			time.Sleep(10 * time.Millisecond)
			if fannedOut == 0 && tick%50 == 0 && env.Count(b, `SELECT count(*) FROM (SELECT 1 FROM campaign_recipients
				WHERE campaign_id = $1 AND state = 'pending' LIMIT 1) x`, cp.ID) == 0 {
				fannedOut = time.Since(start)
			}
		}
		rate := float64(eligible) / time.Since(start).Seconds()
		apptest.WaitFor(b, 60*time.Second, "the campaign completed", func() bool {
			c, err := env.Store.CampaignByID(ctx, cp.ID)
			return err == nil && c.State == "completed"
		})
		to := map[string]bool{}
		for _, m := range env.Twilio.Sent() {
			if to[m.To] {
				b.Fatalf("%s texted twice", m.To)
			}
			to[m.To] = true
		}
		if len(to) != eligible {
			b.Fatalf("%d texts for %d eligible recipients", len(to), eligible)
		}
		if n := env.Count(b, `SELECT count(*) FROM consent_events ce WHERE ce.status = 'opted_out' AND ce.phone = ANY($1)`, keys(to)); n != 0 {
			b.Fatalf("%d opted-out phones texted", n)
		}
		b.ReportMetric(materialise.Seconds(), "materialise_s")
		b.ReportMetric(rate, "sends/s")
		b.ReportMetric(raw, "raw_asynq_task/s")
		b.ReportMetric(rate/raw, "ratio")
		b.Logf("campaign: %d eligible of %d people; materialised in %s; every text stored after %s; %.0f sends/s vs raw asynq %.0f task/s (%.2fx); each once, none opted out",
			eligible, n+out+1, materialise.Round(time.Millisecond), fannedOut.Round(time.Millisecond), rate, raw, rate/raw)
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
