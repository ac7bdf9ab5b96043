package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/metrics"
	"github.com/parleyhq/parley/internal/web"
)

func cidrs(t *testing.T, v string) []*net.IPNet {
	t.Helper()
	n, err := config.ParseCIDRs(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The address a sign-in limit counts is the TCP peer's unless the peer is a
// configured proxy: a forged X-Forwarded-For from anyone else changes nothing.
func TestClientIP(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, trusted string
		fly           bool
		peer, xff     string
		flyHeader     string
		want          string
	}{
		{name: "no proxies: the header is ignored", peer: "203.0.113.5:4000", xff: "198.51.100.7", want: "203.0.113.5"},
		{name: "no proxies: loopback and private peers are not trusted either", peer: "10.1.2.3:4000", xff: "198.51.100.7", want: "10.1.2.3"},
		{name: "a trusted proxy: its header names the client", trusted: "10.0.0.0/8", peer: "10.1.2.3:4000", xff: "198.51.100.7", want: "198.51.100.7"},
		{name: "a chain of trusted proxies: the nearest untrusted address", trusted: "10.0.0.0/8, 192.0.2.1", peer: "10.1.2.3:4000",
			xff: "198.51.100.9, 198.51.100.7, 192.0.2.1", want: "198.51.100.7"},
		{name: "a peer that is not a proxy cannot forward", trusted: "10.0.0.0/8", peer: "203.0.113.5:4000", xff: "198.51.100.7", want: "203.0.113.5"},
		{name: "on Fly: Fly-Client-IP", fly: true, peer: "172.16.0.2:4000", xff: "198.51.100.1", flyHeader: "198.51.100.7", want: "198.51.100.7"},
		{name: "on Fly without the header: the peer", fly: true, peer: "172.16.0.2:4000", want: "172.16.0.2"},
		{name: "on Fly, a header that is no address: the peer", fly: true, peer: "172.16.0.2:4000", flyHeader: "evil", want: "172.16.0.2"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if c.flyHeader != "" {
			r.Header.Set("Fly-Client-IP", c.flyHeader)
		}
		if got := web.ClientIP(cidrs(t, c.trusted), c.fly)(r); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func server(t *testing.T, h web.Health, opt web.Options) *echo.Echo {
	t.Helper()
	return web.New(slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New(), h, opt)
}

func get(e *echo.Echo, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// /readyz says which dependency is down in fixed words, never the driver's
// error (which names the host, the user and the database).
func TestReadyzSaysOnlyWhatIsDown(t *testing.T) {
	t.Parallel()
	leak := errors.New(`failed to connect to host=db.internal user=parley database=parley_prod: password authentication failed`)
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return leak }
	cases := []struct {
		pg, redis func(context.Context) error
		code      int
		want      string
	}{
		{up, up, 200, `{"postgres":"ok","redis":"ok"}`},
		{down, up, 503, `{"postgres":"postgres unavailable","redis":"ok"}`},
		{up, down, 503, `{"postgres":"ok","redis":"redis unavailable"}`},
	}
	for _, c := range cases {
		w := get(server(t, web.Health{Postgres: c.pg, Redis: c.redis}, web.Options{}), "/readyz")
		if w.Code != c.code || strings.TrimSpace(w.Body.String()) != c.want {
			t.Errorf("readyz: %d %s, want %d %s", w.Code, w.Body.String(), c.code, c.want)
		}
		if strings.Contains(w.Body.String(), "db.internal") {
			t.Errorf("readyz leaks the driver's error: %s", w.Body.String())
		}
	}
}

// GET /metrics needs the Bearer token when PARLEY_METRICS_TOKEN is set, and
// is open when it is not.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	up := web.Health{Postgres: func(context.Context) error { return nil }}
	open := server(t, up, web.Options{})
	if w := get(open, "/metrics"); w.Code != 200 || !strings.Contains(w.Body.String(), "go_goroutines") {
		t.Fatalf("open /metrics: %d", w.Code)
	}
	closed := server(t, up, web.Options{MetricsToken: "s3cret-token"})
	for _, auth := range []string{"", "Bearer wrong", "Bearer s3cret-tokenX", "s3cret-token", "Basic czNjcmV0LXRva2Vu"} {
		w := get(closed, "/metrics", "Authorization", auth)
		if w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "go_goroutines") {
			t.Errorf("/metrics with Authorization %q: %d, want 401 and no figures", auth, w.Code)
		}
	}
	if w := get(closed, "/metrics", "Authorization", "Bearer s3cret-token"); w.Code != 200 || !strings.Contains(w.Body.String(), "go_goroutines") {
		t.Fatalf("/metrics with the token: %d", w.Code)
	}
}

// Strict-Transport-Security only when Parley is served over https.
func TestHSTSOverHTTPS(t *testing.T) {
	t.Parallel()
	up := web.Health{Postgres: func(context.Context) error { return nil }}
	if h := get(server(t, up, web.Options{HTTPS: true}), "/healthz").Header().Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=31536000") {
		t.Fatalf("https: Strict-Transport-Security %q", h)
	}
	if h := get(server(t, up, web.Options{}), "/healthz").Header().Get("Strict-Transport-Security"); h != "" {
		t.Fatalf("http: Strict-Transport-Security %q, want none", h)
	}
}

func TestRequestID(t *testing.T) {
	e := web.New(slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New(), web.Health{Postgres: func(context.Context) error { return nil }}, web.Options{})
	for in, keep := range map[string]bool{"": false, "abc": false, "req-0123456789": true, "bad id with spaces": false, strings.Repeat("x", 65): false} {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		if in != "" {
			req.Header.Set(web.RequestIDHeader, in)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		got := w.Header().Get(web.RequestIDHeader)
		if keep && got != in || !keep && (got == in || len(got) != 24) {
			t.Errorf("X-Request-Id %q answered %q", in, got)
		}
	}
}
