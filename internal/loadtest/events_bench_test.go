package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// BenchmarkServeBinaryEvents measures event ingestion through the built
// binary (`parley serve --worker=false`, as a web process runs on Fly):
// 4 senders post POST /api/v1/events:batch with 1,000 events each for
// PARLEY_BENCH_SLICE (default 10s), about 20,000 known loyalty members,
// with 100 rules on the brand (10 for the posted event type, with
// conditions on the event's data and the member's tier; 90 for other
// types). Every event is stored and each matching rule's run is scheduled
// in the same transaction. The baseline, in the same run, inserts the same
// batches as plain rows into a table of the same shape with one INSERT …
// SELECT FROM unnest per batch (no lookup, no rules, no HTTP): storage alone.
// Every event sent is checked to be stored once.
func BenchmarkServeBinaryEvents(b *testing.B) {
	const senders, batch, members = 4, 1000, 20_000
	slice := envDuration(b, "PARLEY_BENCH_SLICE", 10*time.Second)
	ctx := context.Background()
	dir := b.TempDir()
	bin := buildParley(b, dir)
	dbURL := storetest.NewDB(b)
	dbEnv := []string{"DATABASE_URL=" + dbURL}
	runCLI(b, bin, dbEnv, "brand", "add", "--slug", "demo-air", "--name", "Demo Air", "--number", apptest.BrandNumber, "--mps", "10")
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	st := &store.Store{Pool: pool}
	const key = "pk_bench_events_0123456789abcdef"
	if _, err := st.CreateAPIKeyWith(ctx, "bench", key, store.KeyAccess{AllBrands: true, AllScopes: true, Rate: 100_000}); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		WITH c AS (INSERT INTO contacts (name, loyalty_id, attributes, timezone)
			SELECT 'Member ' || g, 'M' || g, jsonb_build_object('tier', (ARRAY['gold','silver','platinum','basic'])[1 + g % 4]), 'America/New_York'
			FROM generate_series(1, $1) g RETURNING id, loyalty_id)
		INSERT INTO contact_phones (phone, contact_id) SELECT '+1303' || lpad(substr(loyalty_id, 2), 7, '0'), id FROM c`, members); err != nil {
		b.Fatal(err)
	}
	fake := twiliotest.New(b, apptest.AccountSID, apptest.AuthToken)
	addr := freeAddr(b)
	env := append(dbEnv, "REDIS_URL="+apptest.RedisURL(), "PARLEY_ADDR="+addr, "PARLEY_PUBLIC_URL=http://"+addr,
		"PARLEY_SPOOL_DIR="+filepath.Join(dir, "spool"), "TWILIO_ACCOUNT_SID="+apptest.AccountSID,
		"TWILIO_AUTH_TOKEN="+apptest.AuthToken, "TWILIO_API_URL="+fake.URL())
	if err := os.MkdirAll(filepath.Join(dir, "spool"), 0o755); err != nil {
		b.Fatal(err)
	}
	parley := start(b, "parley serve", bin, addr, env, "serve", "--worker=false")
	post := func(path string, body any) (int, []byte) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, parley.url+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.Bytes()
	}
	for i := 0; i < 100; i++ {
		ty, cond := fmt.Sprintf("other_event_%d", i), ""
		if i < 10 {
			ty, cond = "flight_completed", fmt.Sprintf(`data.cabin == "business" && attributes.tier in ["gold", "platinum"] && data.delay > %d`, i*10)
		}
		if code, out := post("/api/v1/triggers", map[string]any{"brand": "demo-air", "event_type": ty, "conditions": cond,
			"delay": "2h", "template": "How was flight {{.Event.flight}}?", "purpose": "conversational"}); code != http.StatusCreated {
			b.Fatalf("rule %d: %d %s", i, code, out)
		}
	}
	events := func(prefix string, n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			cabin := "economy"
			if i%3 == 0 {
				cabin = "business"
			}
			out[i] = map[string]any{"type": "flight_completed", "loyalty_id": fmt.Sprintf("M%d", 1+i%members),
				"idempotency_key": fmt.Sprintf("%s-%d", prefix, i), "data": map[string]any{"cabin": cabin, "flight": "DA" + fmt.Sprint(i%900), "delay": i % 120}}
		}
		return out
	}
	// The baseline's table: the events' shape, no lookups, no rules.
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_events (id bigserial PRIMARY KEY, brand_id bigint, type text, loyalty_id text,
		occurred_at timestamptz, data jsonb, idempotency_key text, UNIQUE (brand_id, idempotency_key))`); err != nil {
		b.Fatal(err)
	}
	baseline := func(evs []map[string]any) error {
		types, ids, datas, keys := make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs))
		for i, e := range evs {
			d, _ := json.Marshal(e["data"])
			types[i], ids[i], datas[i], keys[i] = e["type"].(string), e["loyalty_id"].(string), string(d), e["idempotency_key"].(string)
		}
		_, err := pool.Exec(ctx, `INSERT INTO bench_events (brand_id, type, loyalty_id, occurred_at, data, idempotency_key)
			SELECT 1, t, l, now(), d::jsonb, k FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(t, l, d, k)
			ON CONFLICT DO NOTHING`, types, ids, datas, keys)
		return err
	}
	run := func(name string, send func(worker, round int) error) float64 {
		var sent atomic.Int64
		var wg sync.WaitGroup
		deadline := time.Now().Add(slice)
		start := time.Now()
		for w := 0; w < senders; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := 0; time.Now().Before(deadline); round++ {
					if err := send(w, round); err != nil {
						b.Error(err)
						return
					}
					sent.Add(batch)
				}
			}()
		}
		wg.Wait()
		rate := float64(sent.Load()) / time.Since(start).Seconds()
		b.Logf("%-8s %d events in %s: %.0f events/s", name, sent.Load(), time.Since(start).Round(time.Millisecond), rate)
		return rate
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("r%d", i)
		// Warm both sides up.
		if code, out := post("/api/v1/events:batch", map[string]any{"brand": "demo-air", "events": events(prefix+"-warm", batch)}); code != http.StatusAccepted {
			b.Fatalf("warm-up: %d %.300s", code, out)
		}
		if err := baseline(events(prefix+"-warm", batch)); err != nil {
			b.Fatal(err)
		}
		before := count(b, pool, `SELECT count(*) FROM events`)
		runsBefore := count(b, pool, `SELECT count(*) FROM trigger_runs`)
		base := run("baseline", func(w, round int) error {
			return baseline(events(fmt.Sprintf("%s-b%d-%d", prefix, w, round), batch))
		})
		var rejected atomic.Int64
		rate := run("parley", func(w, round int) error {
			code, out := post("/api/v1/events:batch", map[string]any{"brand": "demo-air", "events": events(fmt.Sprintf("%s-p%d-%d", prefix, w, round), batch)})
			if code != http.StatusAccepted {
				return fmt.Errorf("batch: %d %.300s", code, out)
			}
			var r struct {
				Rejected int `json:"rejected"`
			}
			_ = json.Unmarshal(out, &r)
			rejected.Add(int64(r.Rejected))
			return nil
		})
		b.StopTimer()
		stored := count(b, pool, `SELECT count(*) FROM events`) - before
		runs := count(b, pool, `SELECT count(*) FROM trigger_runs`) - runsBefore
		if rejected.Load() != 0 {
			b.Fatalf("%d events rejected", rejected.Load())
		}
		b.ReportMetric(rate, "events/s")
		b.ReportMetric(base, "baseline_events/s")
		b.ReportMetric(rate/base, "ratio")
		b.Logf("parley serve --worker=false, events:batch of %d, %d senders, 100 rules: %.0f events/s stored and scheduled "+
			"(%d events, %d runs) vs baseline %.0f rows/s (%.2fx); load %s", batch, senders, rate, stored, runs, base, rate/base, loadavg())
		b.StartTimer()
	}
}

func count(tb testing.TB, pool *pgxpool.Pool, sql string) int64 {
	tb.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql).Scan(&n); err != nil && err != pgx.ErrNoRows {
		tb.Fatal(err)
	}
	return n
}
