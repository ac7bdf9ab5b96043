package api_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

// A key created with --rate 1 gets a burst of 2, then 429 rate_limited with
// Retry-After; another key is not slowed by it.
func TestKeyRateLimit(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	slow, err := app.APIKeyAdd(ctx, env.Store, "slow", app.AtRate("1"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := app.APIKeyAdd(ctx, env.Store, "other")
	if err != nil {
		t.Fatal(err)
	}
	bodies := sync.Map{}
	get := func(key string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, env.PublicURL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := env.Client.Do(req)
		if err != nil {
			t.Error(err)
			return &http.Response{}
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies.Store(resp, string(b))
		return resp
	}
	// Ten at once: the burst of 2 goes, the rest (but for what the seconds
	// taken add, on a slow machine) are refused.
	resps := make([]*http.Response, 10)
	var wg sync.WaitGroup
	for i := range resps {
		wg.Add(1)
		go func() { defer wg.Done(); resps[i] = get(slow) }()
	}
	wg.Wait()
	ok := 0
	var limited *http.Response
	for _, r := range resps {
		switch r.StatusCode {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited = r
		default:
			t.Fatalf("status %d", r.StatusCode)
		}
	}
	if ok < 2 || limited == nil {
		t.Fatalf("10 requests at once at 1/s: %d allowed, want the burst of 2 and the rest 429", ok)
	}
	if n, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || n < 1 || n > 2 {
		t.Fatalf("Retry-After %q", limited.Header.Get("Retry-After"))
	}
	if r := get(other); r.StatusCode != 200 {
		t.Fatalf("another key: %d", r.StatusCode)
	}
	if body, _ := bodies.Load(limited); !strings.Contains(body.(string), `"rate_limited"`) {
		t.Fatalf("429 body %s, want code rate_limited", body)
	}
}
