package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/config"
)

// signIn posts the sign-in form (after fetching it) with X-Forwarded-For
// set to from when it is not empty.
func (b *browser) signIn(t *testing.T, email, password, from string) *http.Response {
	t.Helper()
	_, page := b.do(t, http.MethodGet, "/login", nil)
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "email": {email}, "password": {password}, "next": {"/"}}
	req, _ := http.NewRequest(http.MethodPost, b.env.PublicURL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func retryAfter(t *testing.T, resp *http.Response) int {
	t.Helper()
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("429 without a usable Retry-After: %q", resp.Header.Get("Retry-After"))
	}
	return n
}

// With no trusted proxy configured, X-Forwarded-For is the client's own
// word: 20 failures each claiming another address still come from one peer,
// which is then refused with 429 and Retry-After.
func TestForgedForwardedForIsIgnored(t *testing.T) {
	env, users := setup(t)
	b := newBrowser(t, env)
	for i := 0; i < 20; i++ {
		if resp := b.signIn(t, fmt.Sprintf("guess%d@demo-air.example", i), "wrong", fmt.Sprintf("198.51.100.%d", i+1)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := b.signIn(t, users["agent"], "correct horse agent", "203.0.113.99")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("21st attempt from the same peer: %d, want 429", resp.StatusCode)
	}
	if n := retryAfter(t, resp); n > 15*60 {
		t.Fatalf("Retry-After %d s, beyond the 15 minute window", n)
	}
}

// Behind a trusted proxy, an attacker guessing the agent's password from one
// address is slowed — each check past the third waits longer — and stopped
// at 20 failures with 429, even with the right password; the agent signing
// in from their own address meanwhile is let in.
func TestGuessingElsewhereDoesNotLockTheOwner(t *testing.T) {
	const base = 200 * time.Millisecond
	env, users := setupWith(t, apptest.Options{
		Config: func(c *config.Config) { c.TrustedProxies, _ = config.ParseCIDRs("127.0.0.0/8") },
		App:    func(o *app.Options) { o.SignInDelay = base },
	})
	attacker, owner := newBrowser(t, env), newBrowser(t, env)
	for i := 0; i < 3; i++ {
		if resp := attacker.signIn(t, users["agent"], "guess", "198.51.100.66"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	// The next checks wait base, then 2 × base, each counted from the
	// failure before it was checked: the second alone starts at least
	// 2 × base after the first of them was recorded.
	start := time.Now()
	for i := 0; i < 2; i++ {
		if resp := attacker.signIn(t, users["agent"], "guess again", "198.51.100.66"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("slowed guess %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	if took := time.Since(start); took < 2*base {
		t.Fatalf("two more guesses took %s, want at least %s of delay", took, 2*base)
	}
	if resp := owner.signIn(t, users["agent"], "correct horse agent", "203.0.113.10"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner from their own address: %d, want signed in", resp.StatusCode)
	}
	// The address's hard limit: 20 failures in the window, whatever the
	// accounts, then 429 with Retry-After, even with the right password.
	for i := 0; i < 15; i++ {
		attacker.signIn(t, fmt.Sprintf("someone%d@demo-air.example", i), "guess", "198.51.100.66")
	}
	resp := attacker.signIn(t, users["agent"], "correct horse agent", "198.51.100.66")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 20 failures from one address: %d, want 429", resp.StatusCode)
	}
	if n := retryAfter(t, resp); n > 15*60 {
		t.Fatalf("Retry-After %d s, beyond the window", n)
	}
	if resp := owner.signIn(t, users["agent"], "correct horse agent", "203.0.113.10"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner after the attacker's address was stopped: %d, want signed in", resp.StatusCode)
	}
}

// Parallel guesses are counted before any password is checked: of 30 at
// once from one address, exactly 20 are checked (401) and 10 refused (429).
func TestParallelGuessesAreCountedFirst(t *testing.T) {
	env, _ := setup(t)
	var wg sync.WaitGroup
	codes := make([]int, 30)
	browsers := make([]*browser, 30)
	pages := make([]string, 30)
	for i := range browsers {
		browsers[i] = newBrowser(t, env)
		_, pages[i] = browsers[i].do(t, http.MethodGet, "/login", nil)
	}
	for i := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"csrf_token": {csrfOf(t, pages[i])}, "email": {fmt.Sprintf("p%d@demo-air.example", i)}, "password": {"x"}}
			req, _ := http.NewRequest(http.MethodPost, env.PublicURL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := browsers[i].client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	n := map[int]int{}
	for _, c := range codes {
		n[c]++
	}
	if n[http.StatusUnauthorized] != 20 || n[http.StatusTooManyRequests] != 10 {
		t.Fatalf("30 parallel guesses from one address: %v, want 20×401 and 10×429", n)
	}
}

// Changing the password checks the current one under the sign-in limits:
// wrong guesses are slowed, and 20 of them from one address end in 429.
func TestPasswordChangeIsThrottled(t *testing.T) {
	env, users := setupWith(t, apptest.Options{App: func(o *app.Options) { o.SignInDelay = time.Millisecond }})
	b := newBrowser(t, env)
	if resp, _ := b.login(t, users["agent"], "correct horse agent"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	_, page := b.do(t, http.MethodGet, "/account", nil)
	csrf := csrfOf(t, page)
	var before string
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE email = $1`, users["agent"]).Scan(&before); err != nil {
		t.Fatal(err)
	}
	change := func(current string) *http.Response {
		resp, _ := b.do(t, http.MethodPost, "/account/password", url.Values{"csrf_token": {csrf}, "current_password": {current},
			"new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
		return resp
	}
	for i := 0; i < 20; i++ {
		if resp := change("not it"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong current password %d: %d, want 400", i+1, resp.StatusCode)
		}
	}
	resp := change("correct horse agent")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 20 wrong current passwords, the right one: %d, want 429", resp.StatusCode)
	}
	retryAfter(t, resp)
	var after string
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE email = $1`, users["agent"]).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatal("a throttled password change changed the password")
	}
}
