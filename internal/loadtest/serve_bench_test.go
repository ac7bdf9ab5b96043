package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// BenchmarkServeBinaryInbound measures `parley serve` — the built binary, web
// and worker in one process, as `make dev` runs it — from outside: 32
// concurrent senders post Twilio-signed inbound webhooks (3% repeated
// MessageSids, ≥5,000 distinct customer phones of which one text in ten is a
// first text from a new phone). The baseline is a bare net/http server doing
// one INSERT per request, run as a child process too (this test binary
// re-executed), so both sides are reached the same way. The two alternate in
// slices (PARLEY_BENCH_SLICE, default 10s; PARLEY_BENCH_SLICES, default 3 per
// side), each after a short warm-up. Every stored row is checked: rows =
// distinct MessageSids on both sides, and one contact per distinct new phone.
//
// The brand has PARLEY_BENCH_RULES keyword auto-replies (default 50, of
// every match kind; the load's texts match none, as most texts do), so the
// figure includes routing's look at every text.
//
// PARLEY_BENCH_PPROF=dir saves a CPU profile of the parley child for each of
// its slices (through PARLEY_PPROF_ADDR, loopback only).
//
// PARLEY_BENCH_PRESEED=n adds a third side: a second `parley serve` whose
// database also holds n earlier customers (n contacts, phones,
// conversations and messages, see preseed), taking its turn in every
// slice with the same load, so the run reports the grown database's rate
// against the empty one's (goal ≥ 0.9×).
func BenchmarkServeBinaryInbound(b *testing.B) {
	const senders = 32
	slice := envDuration(b, "PARLEY_BENCH_SLICE", 10*time.Second)
	nSlices := envInt(b, "PARLEY_BENCH_SLICES", 3)
	warm := min(2*time.Second, slice/2)
	profDir := os.Getenv("PARLEY_BENCH_PPROF")
	ctx := context.Background()
	dir := b.TempDir()
	bin := buildParley(b, dir)

	// Parley's database, its brand (through the CLI, as an operator does) and
	// the customers who have texted before.
	dbURL := storetest.NewDB(b)
	dbEnv := []string{"DATABASE_URL=" + dbURL}
	runCLI(b, bin, dbEnv, "brand", "add", "--slug", "demo-air", "--name", "Demo Air", "--number", apptest.BrandNumber, "--mps", "10")
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	seedKnownCustomers(b, pool)
	rules := envInt(b, "PARLEY_BENCH_RULES", 50)
	seedAutoReplies(b, pool, rules)

	fake := twiliotest.New(b, apptest.AccountSID, apptest.AuthToken)
	parleyAddr, pprofAddr := freeAddr(b), freeAddr(b)
	env := append(dbEnv,
		"REDIS_URL="+apptest.RedisURL(),
		"PARLEY_ADDR="+parleyAddr,
		"PARLEY_PUBLIC_URL=http://"+parleyAddr,
		"PARLEY_SPOOL_DIR="+filepath.Join(dir, "spool"),
		"TWILIO_ACCOUNT_SID="+apptest.AccountSID,
		"TWILIO_AUTH_TOKEN="+apptest.AuthToken,
		"TWILIO_API_URL="+fake.URL(),
	)
	if profDir != "" {
		env = append(env, "PARLEY_PPROF_ADDR="+pprofAddr)
	}
	if err := os.MkdirAll(filepath.Join(dir, "spool"), 0o755); err != nil {
		b.Fatal(err)
	}
	parley := start(b, "parley serve", bin, parleyAddr, env, "serve")

	baseDB := storetest.NewDB(b)
	baseAddr := freeAddr(b)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	base := start(b, "baseline", self, baseAddr, []string{baselineEnv + "=" + baseDB, "PARLEY_ADDR=" + baseAddr}, "-test.run=^$")

	// The grown side, if asked for: the same brand, customers and rules,
	// then the preseeded rows.
	var grown *child
	var grownPool *pgxpool.Pool
	if n := envInt(b, "PARLEY_BENCH_PRESEED", 0); n > 0 {
		gURL := storetest.NewDB(b)
		runCLI(b, bin, []string{"DATABASE_URL=" + gURL}, "brand", "add", "--slug", "demo-air", "--name", "Demo Air", "--number", apptest.BrandNumber, "--mps", "10")
		grownPool, err = pgxpool.New(ctx, gURL)
		if err != nil {
			b.Fatal(err)
		}
		defer grownPool.Close()
		seedKnownCustomers(b, grownPool)
		seedAutoReplies(b, grownPool, rules)
		took := preseed(b, grownPool, n)
		b.Logf("preseeded %d contacts, phones, conversations and messages in %s", n, took.Round(time.Millisecond))
		gAddr := freeAddr(b)
		gEnv := []string{"DATABASE_URL=" + gURL, "REDIS_URL=" + apptest.RedisURL(), "PARLEY_ADDR=" + gAddr,
			"PARLEY_PUBLIC_URL=http://" + gAddr, "PARLEY_SPOOL_DIR=" + filepath.Join(dir, "spool-grown"),
			"TWILIO_ACCOUNT_SID=" + apptest.AccountSID, "TWILIO_AUTH_TOKEN=" + apptest.AuthToken, "TWILIO_API_URL=" + fake.URL()}
		if err := os.MkdirAll(filepath.Join(dir, "spool-grown"), 0o755); err != nil {
			b.Fatal(err)
		}
		grown = start(b, "parley serve (preseeded)", bin, gAddr, gEnv, "serve")
	}
	basePool, err := pgxpool.New(ctx, baseDB)
	if err != nil {
		b.Fatal(err)
	}
	defer basePool.Close()

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt := newTarget("baseline", base.url, fmt.Sprintf("b%d", i))
		pt := newTarget("parley", parley.url, fmt.Sprintf("p%d", i))
		bt.server, bt.pool, pt.server, pt.pool = base, basePool, parley, pool
		sides := []*target{bt, pt}
		var gt *target
		if grown != nil {
			gt = newTarget("preseed", grown.url, fmt.Sprintf("g%d", i))
			gt.server, gt.pool = grown, grownPool
			sides = append(sides, gt)
		}
		for _, t := range sides {
			t.run(b, senders, warm, false)
		}
		b.Logf("load before the slices: %s; %d auto-replies", loadavg(), rules)
		for k := 0; k < nSlices; k++ {
			// Rotate which side goes first so none always follows another.
			order := append(slices.Clone(sides[k%len(sides):]), sides[:k%len(sides)]...)
			for _, t := range order {
				var prof chan error
				if t == pt && profDir != "" {
					prof = make(chan error, 1)
					go func() {
						prof <- cpuProfile(parley, pprofAddr, slice, filepath.Join(profDir, fmt.Sprintf("parley-cpu-%d.pprof", k)))
					}()
				}
				meter := newCPUMeter(t.server.cmd.Process.Pid, t.pool)
				r := t.run(b, senders, slice, true)
				b.Logf("slice %d %-8s %s (load %s); %s", k+1, t.name, r, r.load, meter.done(r.sent))
				if prof != nil {
					if err := <-prof; err != nil {
						b.Logf("pprof: %v", err)
					}
				}
			}
		}
		b.StopTimer()
		checkStored(b, pool, basePool, bt, pt, i)
		if gt != nil {
			checkGrown(b, grownPool, gt, i)
			ratio := gt.total.perSec / pt.total.perSec
			b.ReportMetric(gt.total.perSec, "preseeded_req/s")
			b.ReportMetric(ratio, "preseeded_vs_empty")
			b.ReportMetric(ms(gt.total.p99), "preseeded_p99_ms")
			b.Logf("preseeded database: %s against the empty one's %s: %.2fx", gt.total, pt.total, ratio)
		}
		bl, pl := bt.total, pt.total
		ratio := pl.perSec / bl.perSec
		b.ReportMetric(bl.perSec, "baseline_req/s")
		b.ReportMetric(pl.perSec, "parley_req/s")
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(ms(bl.p50), "baseline_p50_ms")
		b.ReportMetric(ms(bl.p99), "baseline_p99_ms")
		b.ReportMetric(ms(pl.p50), "parley_p50_ms")
		b.ReportMetric(ms(pl.p99), "parley_p99_ms")
		b.Logf("parley serve binary, inbound, %d senders, %d × %s per side: baseline %s; parley %s; "+
			"ratio %.2fx; %d distinct SIDs, %d distinct phones (%d new); load %s",
			senders, nSlices, slice, bl, pl, ratio, len(pt.sids), len(pt.phones), len(pt.newPhones), loadavg())
		b.StartTimer()
	}
}

// seedKnownCustomers creates the contacts, phones and conversations of the
// customers who texted before the run (half of their conversations closed,
// so their next text reopens them).
func seedKnownCustomers(tb testing.TB, pool *pgxpool.Pool) {
	tb.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO contacts (name) SELECT 'Customer ' || g FROM generate_series(0, $1 - 1) g RETURNING id, name
		), p AS (
			INSERT INTO contact_phones (phone, contact_id)
			SELECT '+1212' || lpad((5550000 + substr(name, 10)::int)::text, 7, '0'), id FROM c RETURNING phone, contact_id
		)
		INSERT INTO conversations (brand_id, contact_id, last_phone, status, last_message_at, last_inbound_at)
		SELECT b.id, p.contact_id, p.phone, CASE WHEN p.contact_id % 2 = 0 THEN 'closed' ELSE 'open' END,
		       now() - interval '3 days', now() - interval '3 days'
		FROM p, brands b`, knownPhones)
	if err != nil {
		tb.Fatalf("seed customers: %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM contact_phones WHERE phone = $1`, knownPhone(knownPhones-1)).Scan(&n); err != nil || n != 1 {
		tb.Fatalf("seed customers: phone %s not seeded (%d, %v)", knownPhone(knownPhones-1), n, err)
	}
}

// checkStored is the correctness half: nothing lost, nothing doubled.
func checkStored(tb testing.TB, pool, basePool *pgxpool.Pool, bt, pt *target, i int) {
	tb.Helper()
	ctx := context.Background()
	count := func(p *pgxpool.Pool, q string, args ...any) int {
		var n int
		if err := p.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
		return n
	}
	prefix := fmt.Sprintf("SMp%d%%", i)
	rows := count(pool, `SELECT count(*) FROM messages WHERE direction = 'inbound' AND twilio_sid LIKE $1`, prefix)
	baseRows := count(basePool, `SELECT count(*) FROM baseline_messages WHERE sid LIKE $1`, fmt.Sprintf("SMb%d%%", i))
	newContacts := count(pool, `SELECT count(*) FROM contact_phones WHERE phone LIKE '+1646%'`)
	if rows != len(pt.sids) || baseRows != len(bt.sids) {
		tb.Fatalf("rows stored != distinct MessageSids sent: parley %d vs %d, baseline %d vs %d", rows, len(pt.sids), baseRows, len(bt.sids))
	}
	if i == 0 && newContacts != len(pt.newPhones) {
		tb.Fatalf("new phones: %d contact phones stored for %d distinct new phones", newContacts, len(pt.newPhones))
	}
	if len(pt.phones) < 5000 {
		tb.Fatalf("only %d distinct phones texted; the benchmark wants at least 5,000", len(pt.phones))
	}
	if pt.total.ok != pt.total.sent || bt.total.ok != bt.total.sent {
		tb.Fatalf("non-200 answers: parley %d/%d, baseline %d/%d", pt.total.ok, pt.total.sent, bt.total.ok, bt.total.sent)
	}
	tb.Logf("stored: parley %d rows = %d distinct SIDs (%d new contacts), baseline %d rows = %d distinct SIDs",
		rows, len(pt.sids), newContacts, baseRows, len(bt.sids))
}

// cpuProfile saves a CPU profile of the child taken over d.
func cpuProfile(c *child, addr string, d time.Duration, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	secs := max(1, int(d.Seconds()))
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: pprof answered %s", c.name, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.ReadFrom(resp.Body)
	return err
}

// loadavg is the machine's load (1, 5, 15 min), noted with every figure.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func envDuration(tb testing.TB, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		tb.Fatalf("%s=%q: want a duration such as 2s", name, v)
	}
	return d
}

func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// seedAutoReplies gives the brand n keyword rules of every match kind.
func seedAutoReplies(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	kinds := []string{"exact", "first_word", "contains", "regex"}
	for i := 0; i < n; i++ {
		pattern := fmt.Sprintf("keyword%d", i)
		if kinds[i%4] == "regex" {
			pattern = fmt.Sprintf(`^(order|parcel) ?%d\b`, i)
		}
		if _, err := pool.Exec(context.Background(), `INSERT INTO auto_replies (brand_id, position, match, pattern, reply)
			SELECT id, $1, $2, $3, 'Hi {{default "there" .FirstName}}' FROM brands WHERE slug = 'demo-air'`, i+1, kinds[i%4], pattern); err != nil {
			tb.Fatal(err)
		}
	}
}
