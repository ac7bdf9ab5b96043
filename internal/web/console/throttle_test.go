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
// address is slowed, while the agent signing in from their own address is
// not; the attacker gets 429 even with the right password.
func TestGuessingElsewhereDoesNotLockTheOwner(t *testing.T) {
	env, users := setupWith(t, apptest.Options{
		Config: func(c *config.Config) { c.TrustedProxies, _ = config.ParseCIDRs("127.0.0.0/8") },
		App:    func(o *app.Options) { o.SignInDelay = time.Hour },
	})
	attacker, owner := newBrowser(t, env), newBrowser(t, env)
	for i := 0; i < 3; i++ {
		if resp := attacker.signIn(t, users["agent"], "guess", "198.51.100.66"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := attacker.signIn(t, users["agent"], "guess again", "198.51.100.66")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth guess at once: %d, want 429", resp.StatusCode)
	}
	if n := retryAfter(t, resp); n < 60 {
		t.Fatalf("Retry-After %d s, want the account's wait at that address (about an hour)", n)
	}
	if resp := attacker.signIn(t, users["agent"], "correct horse agent", "198.51.100.66"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right password from the guessing address: %d, want 429", resp.StatusCode)
	}
	if resp := owner.signIn(t, users["agent"], "correct horse agent", "203.0.113.10"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner from their own address: %d, want signed in", resp.StatusCode)
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

// Changing the password checks the current one under the sign-in limits.
func TestPasswordChangeIsThrottled(t *testing.T) {
	env, users := setupWith(t, apptest.Options{App: func(o *app.Options) { o.SignInDelay = time.Hour }})
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
	for i := 0; i < 3; i++ {
		if resp := change("not it"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong current password %d: %d, want 400", i+1, resp.StatusCode)
		}
	}
	resp := change("correct horse agent")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth try at once, right password: %d, want 429", resp.StatusCode)
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
