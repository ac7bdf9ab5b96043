package console_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

// BenchmarkConsoleSSEFanout: a webhook's text reaching many signed-in
// consoles at once. Each console is its own session (its own cookie and
// connection) on GET /events; every webhook's conversation event must reach
// every console, and the latency of each receipt (from the webhook's 200 to
// the event read by that console) goes into one distribution. Baseline in
// the same run, with the same clients and parser: a bare net/http server
// that writes one event to each of its streams on a channel send (the cost
// of the fan-out itself on this machine: goroutines, writes, flushes,
// loopback reads). Knobs:
//
//	PARLEY_BENCH_SSE_CLIENTS  consoles connected, default 500
//	PARLEY_BENCH_WEBHOOKS     texts measured, default 300
//	PARLEY_BENCH_SSE_PACE     time between texts, default 50ms
func BenchmarkConsoleSSEFanout(b *testing.B) {
	ctx := context.Background()
	nClients := benchEnvInt("PARLEY_BENCH_SSE_CLIENTS", 500)
	nHooks := benchEnvInt("PARLEY_BENCH_WEBHOOKS", 300)
	pace := 50 * time.Millisecond
	if d, err := time.ParseDuration(os.Getenv("PARLEY_BENCH_SSE_PACE")); err == nil && d > 0 {
		pace = d
	}
	const warm = 10

	env := apptest.New(b, apptest.Options{})
	other, err := app.BrandAdd(ctx, env.Store, app.BrandAddInput{Slug: benchOtherSlug, Name: "Other Air", Numbers: []string{benchOtherNumber}, MPS: 10})
	if err != nil {
		b.Fatal(err)
	}
	var agents []int64
	for i := 1; i <= benchAgents; i++ {
		u, _, err := app.UserAdd(ctx, env.Store, fmt.Sprintf("agent%02d@demo-air.example", i), "agent", benchPassword)
		if err != nil {
			b.Fatal(err)
		}
		agents = append(agents, u.ID)
	}
	nConv := 4 * (nHooks + warm)
	benchLoad(b, ctx, env.Store.Pool, nConv, env.Brand.ID, other.ID, agents[0], agents[1:])
	<-env.App.Hub.Ready()

	// Sessions made in the store (a sign-in's bcrypt and throttle delay
	// 500 times would be most of the run), one per console, spread over
	// the agents.
	transport := &http.Transport{MaxIdleConnsPerHost: nClients + 10}
	defer transport.CloseIdleConnections()
	base, _ := url.Parse(env.PublicURL)
	browsers := make([]*benchBrowser, nClients)
	for i := range browsers {
		var raw [16]byte
		_, _ = rand.Read(raw[:])
		token := hex.EncodeToString(raw[:])
		if err := env.Store.CreateSession(ctx, token, agents[i%len(agents)], "bench-csrf", time.Now().Add(12*time.Hour)); err != nil {
			b.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		jar.SetCookies(base, []*http.Cookie{{Name: "parley_session", Value: token, Path: "/"}})
		browsers[i] = &benchBrowser{base: env.PublicURL, client: &http.Client{Jar: jar, Transport: transport}}
	}

	rows, err := env.Store.Pool.Query(ctx, `SELECT id, last_phone FROM conversations WHERE brand_id = $1 ORDER BY md5(id::text) LIMIT $2`,
		env.Brand.ID, nHooks+warm)
	if err != nil {
		b.Fatal(err)
	}
	var targets []benchTarget
	for rows.Next() {
		var tg benchTarget
		if err := rows.Scan(&tg.conv, &tg.phone); err != nil {
			b.Fatal(err)
		}
		targets = append(targets, tg)
	}
	rows.Close()
	if len(targets) < nHooks+warm {
		b.Fatalf("only %d demo-air conversations", len(targets))
	}

	t0 := time.Now()
	clients := make([]*sseClient, nClients)
	for i, br := range browsers {
		clients[i] = openSSE(b, br)
	}
	b.Logf("%d consoles connected in %s; the hub has %d subscribers", nClients, time.Since(t0).Round(time.Millisecond), env.App.Hub.Subscribers())
	webhookToSSEAll(b, env, clients, targets[nHooks:], pace, "fw")
	parley, perText, early := webhookToSSEAll(b, env, clients, targets[:nHooks], pace, "fs")
	for _, c := range clients {
		c.cancel()
	}

	bare, bareSlowest := bareFanout(b, nClients, nHooks, warm, pace)

	for _, x := range []struct {
		name string
		all  benchStats
	}{{"sse_fanout_every_receipt", parley}, {"sse_fanout_slowest_per_text", perText},
		{"baseline_bare_fanout_every_receipt", bare}, {"baseline_bare_fanout_slowest", bareSlowest}} {
		b.Run(x.name, func(b *testing.B) {
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(benchMS(x.all.pct(0.5)), "p50_ms")
			b.ReportMetric(benchMS(x.all.pct(0.99)), "p99_ms")
			b.ReportMetric(benchMS(x.all.pct(1)), "max_ms")
		})
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nSSE fan-out: %d consoles, %d texts every %s (%d receipts; %d read before the 200, counted as 0)\n",
		nClients, nHooks, pace, len(parley.lat), early)
	fmt.Fprintf(&sb, "%-36s %9s %9s %9s %9s\n", "measure", "p50 ms", "p95 ms", "p99 ms", "max ms")
	for _, s := range []benchStats{parley, perText, bare, bareSlowest} {
		fmt.Fprintf(&sb, "%-36s %9.2f %9.2f %9.2f %9.2f\n", s.name, benchMS(s.pct(0.5)), benchMS(s.pct(0.95)), benchMS(s.pct(0.99)), benchMS(s.pct(1)))
	}
	fmt.Fprintf(&sb, "p99 ratio (every receipt) against the bare fan-out: %.2f×\n", float64(parley.pct(0.99))/float64(max(bare.pct(0.99), time.Microsecond)))
	fmt.Print(sb.String())
}

// webhookToSSEAll posts one signed webhook per target, paced, and keeps
// every client's receipt latency (from the 200) and, per text, the slowest.
func webhookToSSEAll(tb testing.TB, env *apptest.Env, clients []*sseClient, targets []benchTarget, every time.Duration, tag string) (all, slowest benchStats, early int) {
	tb.Helper()
	all.name, slowest.name = "sse_fanout_every_receipt", "sse_fanout_slowest_per_text"
	start := time.Now()
	for i, tg := range targets {
		if wait := time.Until(start.Add(time.Duration(i) * every)); wait > 0 {
			time.Sleep(wait)
		}
		t1 := postInbound(tb, env, tg, fmt.Sprintf("SM%s%030d", tag, i), i)
		var worst time.Duration
		for _, c := range clients {
			d := c.waitFor(tb, tg.conv).Sub(t1)
			if d < 0 {
				early++
				d = 0
			}
			all.lat = append(all.lat, d)
			worst = max(worst, d)
		}
		slowest.lat = append(slowest.lat, worst)
	}
	return all, slowest, early
}

// postInbound posts one signed inbound webhook for tg and returns when its
// 200 was read.
func postInbound(tb testing.TB, env *apptest.Env, tg benchTarget, sid string, i int) time.Time {
	tb.Helper()
	form := apptest.Inbound(sid, tg.phone, fmt.Sprintf("Any news on my bag? (%d)", i))
	code, body := env.PostForm(tb, benchSMSPath, form)
	answered := time.Now()
	if code != http.StatusOK {
		tb.Fatalf("webhook from %s: %d %s", tg.phone, code, body)
	}
	return answered
}

// bareFanout is the baseline: n clients on a bare net/http SSE server,
// each event handed to every stream's goroutine through a channel, the same
// client parser reading. Latency from the hand-off to each receipt.
func bareFanout(tb testing.TB, nClients, n, warm int, every time.Duration) (all, slowest benchStats) {
	tb.Helper()
	var mu sync.Mutex
	streams := map[chan int64]struct{}{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch := make(chan int64, 256)
		mu.Lock()
		streams[ch] = struct{}{}
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(streams, ch)
			mu.Unlock()
		}()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fl := w.(http.Flusher)
		fmt.Fprint(w, ": connected\n\n")
		fl.Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case id := <-ch:
				fmt.Fprintf(w, "id: %d\nevent: conversation\ndata: {\"id\":%d}\n\n", id, id)
				fl.Flush()
			}
		}
	}))
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: nClients + 10}
	defer transport.CloseIdleConnections()
	clients := make([]*sseClient, nClients)
	for i := range clients {
		clients[i] = openSSE(tb, &benchBrowser{base: srv.URL, client: &http.Client{Transport: transport}})
	}
	defer func() {
		for _, c := range clients {
			c.cancel()
		}
	}()
	all.name, slowest.name = "baseline_bare_fanout_every_receipt", "baseline_bare_fanout_slowest"
	start := time.Now()
	for i := 0; i < warm+n; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * every)); wait > 0 {
			time.Sleep(wait)
		}
		id := int64(1_000_000 + i)
		t0 := time.Now()
		mu.Lock()
		for ch := range streams {
			ch <- id
		}
		mu.Unlock()
		var worst time.Duration
		for _, c := range clients {
			d := c.waitFor(tb, id).Sub(t0)
			if i >= warm {
				all.lat = append(all.lat, d)
			}
			worst = max(worst, d)
		}
		if i >= warm {
			slowest.lat = append(slowest.lat, worst)
		}
	}
	return all, slowest
}
