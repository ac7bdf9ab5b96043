package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/config"
)

// signInWith posts the sign-in form with extra request headers.
func (b *browser) signInWith(t *testing.T, email, password string, headers map[string]string) *http.Response {
	t.Helper()
	_, page := b.do(t, http.MethodGet, "/login", nil)
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "email": {email}, "password": {password}, "next": {"/"}}
	req, _ := http.NewRequest(http.MethodPost, b.env.PublicURL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// Rotating forwarding headers never buys a guesser more sign-ins: the
// address the throttle counts is the one the configuration says to
// believe (the TCP peer; a trusted proxy's nearest untrusted entry; on
// Fly, Fly-Client-IP), whatever else the request claims. Each case has
// its address's first failures already recorded (the limit is
// auth.MaxPerAddress), then sends the last allowed guesses and one more,
// each under other forged addresses: the last is refused with 429, and
// every failure is recorded under the real address.
func TestSecurityThrottleIgnoresForgedForwarding(t *testing.T) {
	cases := []struct {
		name    string
		config  func(*config.Config)
		real    string                        // the address the throttle must count
		headers func(i int) map[string]string // the forged headers of guess i
	}{
		{name: "no proxy configured", real: "127.0.0.1", headers: func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1), "Fly-Client-IP": fmt.Sprintf("198.51.101.%d", i+1),
				"X-Real-IP": fmt.Sprintf("198.51.102.%d", i+1), "Forwarded": fmt.Sprintf("for=198.51.103.%d", i+1)}
		}},
		{name: "a trusted proxy that is not the peer", real: "127.0.0.1",
			config: func(c *config.Config) { c.TrustedProxies, _ = config.ParseCIDRs("10.0.0.0/8") },
			headers: func(i int) map[string]string {
				return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d, 10.0.0.1", i+1)}
			}},
		{name: "behind the trusted proxy, forged entries before the one it appends", real: "203.0.113.7",
			config: func(c *config.Config) { c.TrustedProxies, _ = config.ParseCIDRs("127.0.0.0/8") },
			headers: func(i int) map[string]string {
				return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d, 192.0.2.%d, 203.0.113.7", i+1, i+1)}
			}},
		{name: "on Fly, X-Forwarded-For rotated beside Fly's header", real: "203.0.113.9",
			config: func(c *config.Config) { c.OnFly = true },
			headers: func(i int) map[string]string {
				return map[string]string{"Fly-Client-IP": "203.0.113.9", "X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, users := setupWith(t, apptest.Options{Config: c.config, App: func(o *app.Options) { o.SignInDelay = time.Millisecond }})
			const allowed = 2
			for i := 0; i < auth.MaxPerAddress-allowed; i++ {
				if _, err := env.Store.Pool.Exec(context.Background(), `INSERT INTO login_failures (email, address) VALUES ($1, $2)`,
					fmt.Sprintf("seed%d@demo-air.example", i), c.real); err != nil {
					t.Fatal(err)
				}
			}
			b := newBrowser(t, env)
			for i := 0; i < allowed; i++ {
				if resp := b.signInWith(t, fmt.Sprintf("guess%d@demo-air.example", i), "wrong", c.headers(i)); resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d, want 401", i+1, resp.StatusCode)
				}
			}
			resp := b.signInWith(t, users["agent"], "correct horse agent", c.headers(allowed))
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("past the limit under a new forged address: %d, want 429 with Retry-After", resp.StatusCode)
			}
			if n := env.Count(t, `SELECT count(*) FROM login_failures WHERE address = $1`, c.real); n != auth.MaxPerAddress {
				t.Fatalf("%d failures recorded under %s, want %d", n, c.real, auth.MaxPerAddress)
			}
			if n := env.Count(t, `SELECT count(*) FROM login_failures WHERE address <> $1`, c.real); n != 0 {
				t.Fatalf("%d failures recorded under a forged address", n)
			}
		})
	}
}
