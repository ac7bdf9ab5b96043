package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
)

// /metrics reads the queues, the Postgres pool, the live consoles and the
// campaigns when scraped: a HELP answer waiting in the replies queue (no
// worker runs here) and a draft campaign show.
func TestMetricsAtScrape(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	if code, body := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM00000000000000000000000000000m01", "+12125550781", "HELP")); code != 200 {
		t.Fatalf("inbound: %d %s", code, body)
	}
	if _, err := env.Store.Pool.Exec(t.Context(), `INSERT INTO campaigns (brand_id, name, variants) VALUES ($1, 'x', '[]')`, env.Brand.ID); err != nil {
		t.Fatal(err)
	}
	var text string
	apptest.WaitFor(t, 5*time.Second, "the HELP answer queued", func() bool {
		resp, err := http.Get(env.PublicURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(b)
		return strings.Contains(text, `parley_queue_tasks{queue="replies",state="pending"} 1`)
	})
	for _, want := range []string{`parley_queue_latency_seconds{queue="bulk"} 0`, `parley_pg_pool_connections{state="max"}`,
		`parley_pg_pool_acquires_total`, `parley_sse_clients 0`, `parley_campaigns{state="draft"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// Each carrier call is counted by sender number and error code.
func TestMetricsCarrierCalls(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Worker: true})
	if code, body := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM00000000000000000000000000000m02", "+12125550782", "HELP")); code != 200 {
		t.Fatalf("inbound: %d %s", code, body)
	}
	want := `parley_carrier_calls_total{code="0",from="` + env.Brand.Numbers[0].Number + `"} 1`
	apptest.WaitFor(t, 10*time.Second, "the HELP answer counted at the carrier", func() bool {
		resp, err := http.Get(env.PublicURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(b), want)
	})
}
