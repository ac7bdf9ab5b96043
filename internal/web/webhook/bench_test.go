package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// loadResult is one load run's figures.
type loadResult struct {
	sent, ok, distinct int
	elapsed            time.Duration
	lat                []time.Duration
	perSec             float64
	p50, p99           time.Duration
}

// add merges another run of the same target into r and recomputes the figures.
func (r loadResult) add(o loadResult) loadResult {
	r.sent += o.sent
	r.ok += o.ok
	r.distinct += o.distinct
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	r.perSec = float64(r.sent) / r.elapsed.Seconds()
	if len(r.lat) > 0 {
		r.p50, r.p99 = r.lat[len(r.lat)/2], r.lat[len(r.lat)*99/100]
	}
	return r
}

// runLoad posts signed inbound webhooks to baseURL+smsPath from `senders`
// goroutines for d. One in twenty requests repeats an earlier MessageSid, as
// Twilio's retries do.
func runLoad(tb testing.TB, baseURL, prefix string, senders int, d time.Duration) loadResult {
	tr := &http.Transport{MaxIdleConns: senders * 2, MaxIdleConnsPerHost: senders * 2}
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	defer tr.CloseIdleConnections()
	target := baseURL + smsPath
	var seq atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	sids := map[string]bool{}
	var okCount atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			localSIDs := make([]string, 0, 4096)
			for time.Now().Before(deadline) {
				n := seq.Add(1)
				id := n
				if n%20 == 0 {
					id = n - 7 // a retry of an earlier delivery
				}
				sid := fmt.Sprintf("SM%s%030d", prefix, id)
				from := fmt.Sprintf("+1212%07d", 5550000+id%2000)
				form := apptest.Inbound(sid, from, fmt.Sprintf("Hello, message %d about my booking", id))
				body := form.Encode()
				req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", twilio.Sign(apptest.AuthToken, target, form))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					tb.Errorf("request: %v", err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				localSIDs = append(localSIDs, sid)
				if resp.StatusCode == http.StatusOK {
					okCount.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			for _, s := range localSIDs {
				sids[s] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return loadResult{sent: len(lat), ok: int(okCount.Load()), distinct: len(sids), elapsed: time.Since(start), lat: lat}
}

// BenchmarkInboundWebhook compares Parley's whole inbound pipeline (signature,
// parsing, identity, conversation, consent, notify, one transaction) with a
// bare net/http handler doing one INSERT per request, both against the real
// Postgres, 32 concurrent senders, 10 s each (PARLEY_BENCH_SECONDS overrides).
func BenchmarkInboundWebhook(b *testing.B) {
	secs := 10 * time.Second
	if v := os.Getenv("PARLEY_BENCH_SECONDS"); v != "" {
		if d, err := time.ParseDuration(v + "s"); err == nil {
			secs = d
		}
	}
	const senders = 32
	ctx := context.Background()
	opt := apptest.Options{}
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_BATCHERS")); err == nil {
		opt.Inbound.Batchers = v
	}
	env := apptest.New(b, opt)

	// Baseline: same form, same signed requests, one bare insert.
	base, err := storetest.NewBaseline(ctx, storetest.NewDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer base.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f := r.PostForm
		if err := base.Insert(r.Context(), f.Get("MessageSid"), f.Get("From"), f.Get("To"), f.Get("Body")); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
	}))
	defer srv.Close()

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate the two in slices so neither gets the quieter half of the
		// run (checkpoints, other load on the machine).
		var bl, pl loadResult
		const slices = 4
		for k := 0; k < slices; k++ {
			bl = bl.add(runLoad(b, srv.URL, fmt.Sprintf("b%d%d", i, k), senders, secs/slices))
			pl = pl.add(runLoad(b, env.PublicURL, fmt.Sprintf("p%d%d", i, k), senders, secs/slices))
		}
		b.StopTimer()
		baseRows, err := base.Count(ctx)
		if err != nil {
			b.Fatal(err)
		}
		parleyRows := env.Count(b, `SELECT count(*) FROM messages WHERE direction = 'inbound'`)
		if bl.ok != bl.sent || pl.ok != pl.sent {
			b.Fatalf("non-200 answers: baseline %d/%d, parley %d/%d", bl.ok, bl.sent, pl.ok, pl.sent)
		}
		if parleyRows != pl.distinct || baseRows != bl.distinct {
			b.Fatalf("rows stored != distinct MessageSids sent: parley %d vs %d, baseline %d vs %d",
				parleyRows, pl.distinct, baseRows, bl.distinct)
		}
		ratio := pl.perSec / bl.perSec
		b.ReportMetric(bl.perSec, "baseline_req/s")
		b.ReportMetric(pl.perSec, "parley_req/s")
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(float64(bl.p50.Microseconds())/1000, "baseline_p50_ms")
		b.ReportMetric(float64(bl.p99.Microseconds())/1000, "baseline_p99_ms")
		b.ReportMetric(float64(pl.p50.Microseconds())/1000, "parley_p50_ms")
		b.ReportMetric(float64(pl.p99.Microseconds())/1000, "parley_p99_ms")
		b.Logf("inbound webhook, %d senders, %s each: baseline %.0f req/s (p50 %s, p99 %s, %d rows = %d distinct SIDs); "+
			"parley %.0f req/s (p50 %s, p99 %s, %d rows = %d distinct SIDs); ratio %.2fx",
			senders, secs, bl.perSec, bl.p50, bl.p99, baseRows, bl.distinct,
			pl.perSec, pl.p50, pl.p99, parleyRows, pl.distinct, ratio)
		b.StartTimer()
	}
}
