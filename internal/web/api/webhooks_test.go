package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/metrics"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/trigger"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/web/api"
)

// webhookPath subscribes a demohotel URL and returns its API path with
// tail, for the route walk.
func (b *bundle) webhookPath(t *testing.T, tail string) string {
	t.Helper()
	w, err := b.st.CreateWebhook(b.ctx, b.hotel.ID, "https://hooks.example.com/parley", []string{hooks.MessageReceived}, "whsec_test")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/api/v1/webhooks/%d%s", w.ID, tail)
}

func (b *bundle) webhookRows(t *testing.T) string {
	t.Helper()
	var s string
	if err := b.st.Pool.QueryRow(b.ctx, `SELECT (SELECT coalesce(string_agg(id || ' ' || coalesce(deleted_at::text, ''), ';' ORDER BY id), '')
		FROM webhooks) || ' / ' || (SELECT count(*) FROM webhook_deliveries)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// withHooks replaces the bundle's server by one whose API has a webhook
// service with a delivery worker on the real Redis.
func withHooks(t *testing.T, b *bundle) {
	t.Helper()
	u := os.Getenv("PARLEY_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/15"
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := hooks.New(b.st, rdb, fmt.Sprintf("apiwh%d:", time.Now().UnixNano()), log)
	wk := hooks.NewWorker(svc, rdb, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = wk.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	h := api.New(b.st, log, nil, nil, campaign.NewService(b.st, nil, "http://parley.test"), trigger.NewService(b.st, log))
	h.Hooks = svc
	b.e = web.New(log, metrics.New(), web.Health{Postgres: b.st.Ping}, web.Options{}, h)
}

func TestWebhooksAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	withHooks(t, b)
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, body)
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)

	// Bad input: named fields, nothing stored.
	before := b.webhookRows(t)
	b.call(t, http.MethodPost, "/api/v1/webhooks", map[string]any{"brand": "demoair", "url": "http://hooks.example.com/x",
		"events": []string{"message.received"}}).expectError(t, http.StatusBadRequest, "invalid_field", "url")
	b.call(t, http.MethodPost, "/api/v1/webhooks", map[string]any{"brand": "demoair", "url": "https://hooks.example.com/x",
		"events": []string{"message.received", "message.exploded"}}).expectError(t, http.StatusBadRequest, "invalid_field", "events")
	b.call(t, http.MethodPost, "/api/v1/webhooks", map[string]any{"brand": "demoair", "url": "https://hooks.example.com/x"}).
		expectError(t, http.StatusBadRequest, "invalid_field", "events")
	b.call(t, http.MethodPost, "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.com/x", "events": []string{"message.status"}}).
		expectError(t, http.StatusBadRequest, "missing_field", "brand")
	if after := b.webhookRows(t); after != before {
		t.Fatalf("refused requests stored %s", after)
	}

	var created struct {
		Data struct {
			ID     int64    `json:"id"`
			Brand  string   `json:"brand"`
			URL    string   `json:"url"`
			Events []string `json:"events"`
			Secret string   `json:"secret"`
		} `json:"data"`
	}
	b.call(t, http.MethodPost, "/api/v1/webhooks", map[string]any{"brand": "demoair", "url": recv.URL + "/in",
		"events": []string{"message.received", "message.status"}}).decode(t, http.StatusCreated, &created)
	if created.Data.Secret == "" || created.Data.Brand != "demoair" || len(created.Data.Events) != 2 {
		t.Fatalf("created %+v", created.Data)
	}
	var list struct {
		Data []map[string]any `json:"data"`
		Next string           `json:"next"`
	}
	b.call(t, http.MethodPost, "/api/v1/webhooks", map[string]any{"brand": "demoair", "url": "https://hooks.example.com/2",
		"events": []string{"consent.changed"}}).decode(t, http.StatusCreated, nil)
	b.call(t, http.MethodGet, "/api/v1/webhooks?brand=demoair&limit=1", nil).decode(t, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Next == "" || list.Data[0]["secret"] != nil {
		t.Fatalf("first page %+v (a list never shows secrets)", list)
	}
	next := list.Next
	list.Next = ""
	b.call(t, http.MethodGet, next, nil).decode(t, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Next != "" || int64(list.Data[0]["id"].(float64)) != created.Data.ID {
		t.Fatalf("second page %+v", list)
	}

	// A test event, signed with the secret, in the delivery log.
	path := fmt.Sprintf("/api/v1/webhooks/%d", created.Data.ID)
	b.call(t, http.MethodPost, path+"/test", nil).decode(t, http.StatusAccepted, nil)
	deadline := time.Now().Add(10 * time.Second)
	var logged struct {
		Data []struct {
			Type     string `json:"type"`
			Status   string `json:"status"`
			Attempts int    `json:"attempts"`
			LastCode int    `json:"last_code"`
		} `json:"data"`
	}
	for {
		b.call(t, http.MethodGet, path+"/deliveries", nil).decode(t, http.StatusOK, &logged)
		if len(logged.Data) == 1 && logged.Data[0].Status == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log %+v", logged.Data)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := logged.Data[0]; d.Type != hooks.Test || d.Attempts != 1 || d.LastCode != 200 {
		t.Fatalf("logged %+v", d)
	}
	mu.Lock()
	r, body := got[0], bodies[0]
	mu.Unlock()
	if err := hooks.Verify(created.Data.Secret, r.Header.Get(hooks.HeaderSignature), body, time.Now()); err != nil {
		t.Fatalf("test event signature: %v", err)
	}

	b.call(t, http.MethodDelete, path, nil).decode(t, http.StatusNoContent, nil)
	b.call(t, http.MethodDelete, path, nil).expectError(t, http.StatusNotFound, "not_found", "")
	b.call(t, http.MethodPost, path+"/test", nil).expectError(t, http.StatusNotFound, "not_found", "")
}

// Refusals by scope and brand (walked for every route in access_test.go)
// leave the subscriptions and deliveries as they were.
func TestWebhookRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := b.webhookPath(t, "")
	airOnly := b.keyWith(t, "pk_whair_0123456789", store.KeyAccess{BrandIDs: []int64{b.air.ID}, AllScopes: true, Rate: 1000})
	noSettings := b.keyWith(t, "pk_whnoscope_0123456789", store.KeyAccess{AllBrands: true, Scopes: []string{"contacts:read"}, Rate: 1000})
	before := b.webhookRows(t)
	create := map[string]any{"brand": "demohotel", "url": "https://hooks.example.com/p", "events": []string{"message.received"}}
	for _, key := range []string{airOnly, noSettings} {
		for _, c := range []struct {
			method, path string
			body         any
		}{{http.MethodPost, "/api/v1/webhooks", create}, {http.MethodDelete, path, nil}, {http.MethodPost, path + "/test", nil},
			{http.MethodGet, path + "/deliveries", nil}} {
			if r := b.callAs(t, key, c.method, c.path, c.body); r.Status != http.StatusForbidden {
				t.Errorf("%s %s: %d %s, want 403", c.method, c.path, r.Status, r.Body)
			}
		}
	}
	if after := b.webhookRows(t); after != before {
		t.Fatalf("refused requests changed %s to %s", before, after)
	}
}
