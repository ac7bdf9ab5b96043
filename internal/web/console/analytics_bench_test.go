package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// BenchmarkAnalyticsDashboard: the server time of GET /analytics (all five
// reports of the last week by day) and of each analytics endpoint of the
// API for that week, over one brand's 1,000,000 texts of the last 28 days
// in 100,000 conversations (storetest.SeedAnalytics), 20 requests each,
// p50 and p95, reading every raw row (the baseline, as before the
// rollups) and through the rollups in turn, on the same data in the same
// run. Also the time of the first fold (every slot and wait of the 28
// days) and of a pass right after it. PARLEY_BENCH_PPROF=dir adds a CPU
// profile of 40 more dashboard loads (dir/dashboard.cpu.pprof).
//
//	go test ./internal/web/console -run '^$' -bench AnalyticsDashboard -benchtime 1x -timeout 30m
func BenchmarkAnalyticsDashboard(b *testing.B) {
	env := apptest.New(b, apptest.Options{})
	ctx := context.Background()
	if _, _, err := app.UserAdd(ctx, env.Store, "marketer@demo-air.example", "marketer", "correct horse marketer"); err != nil {
		b.Fatal(err)
	}
	const key = "pk_bench_0123456789abcdef"
	if _, err := env.Store.CreateAPIKey(ctx, "bench", key); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	seedStart := time.Now()
	if err := storetest.SeedAnalytics(ctx, env.Store.Pool, env.Brand.ID, storetest.AnalyticsData{Conversations: 100_000, Texts: 1_000_000,
		From: now.Add(-28 * 24 * time.Hour), To: now}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded 1,000,000 texts in %s", time.Since(seedStart).Round(time.Second))
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, header ...string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, env.PublicURL+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	_, page := get("/login")
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	if resp, err := client.PostForm(env.PublicURL+"/login", url.Values{"csrf_token": {m[1]}, "email": {"marketer@demo-air.example"},
		"password": {"correct horse marketer"}, "next": {"/"}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: %v %v", resp, err)
	}
	pages := []struct{ name, path string }{{"dashboard", "/analytics?brand=" + env.Brand.Slug}}
	for _, kind := range []string{"volume", "response-times", "delivery", "consent", "relationship", "campaigns", "topics", "conversations.csv"} {
		pages = append(pages, struct{ name, path string }{kind, "/api/v1/analytics/" + kind + "?brand=" + env.Brand.Slug})
	}
	// measure loads each page 20 times each way, raw and through the
	// rollups in turn (after one warm-up each), so that both see the same
	// load of the shared machine: p50 and p95 in milliseconds.
	measure := func() {
		for _, p := range pages {
			took := map[string][]time.Duration{}
			for i := range 21 {
				for _, mode := range []string{"raw", "rollup"} {
					env.App.Store.RawAnalytics.Store(mode == "raw")
					start := time.Now()
					if code, body := get(p.path, "Authorization", "Bearer "+key); code != http.StatusOK {
						b.Fatalf("%s %s: %d %.200s", mode, p.name, code, body)
					}
					if i > 0 {
						took[mode] = append(took[mode], time.Since(start))
					}
				}
			}
			env.App.Store.RawAnalytics.Store(false)
			for mode, ds := range took {
				sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
				b.ReportMetric(float64(ds[9].Microseconds())/1000, mode+"_"+p.name+"_p50_ms")
				b.ReportMetric(float64(ds[18].Microseconds())/1000, mode+"_"+p.name+"_p95_ms")
			}
		}
	}
	refresher := analytics.NewRefresher(env.Store, slog.New(slog.DiscardHandler))
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if ran, err := refresher.Refresh(ctx); err != nil || !ran {
			b.Fatalf("first fold: %v %v", ran, err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "first_fold_s")
		// As autovacuum would soon after: the new tables' statistics.
		if _, err := env.Store.Pool.Exec(ctx, `VACUUM ANALYZE analytics_message_slots, analytics_consent_slots, analytics_waits, analytics_topic_days, analytics_topic_totals`); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if ran, err := refresher.Refresh(ctx); err != nil || !ran {
			b.Fatalf("second fold: %v %v", ran, err)
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "idle_fold_ms")
		measure()
		if dir := os.Getenv("PARLEY_BENCH_PPROF"); dir != "" {
			profileDashboard(b, dir, func() { get(pages[0].path) })
		}
	}
}

// profileDashboard writes a CPU profile of 40 dashboard loads through the
// rollups to dir/dashboard.cpu.pprof (PARLEY_BENCH_PPROF=dir).
func profileDashboard(b *testing.B, dir string, load func()) {
	f, err := os.Create(filepath.Join(dir, "dashboard.cpu.pprof"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	for range 40 {
		load()
	}
	pprof.StopCPUProfile()
}
