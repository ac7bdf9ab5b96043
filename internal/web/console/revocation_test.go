package console_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
)

// stream opens GET /events for b and returns a channel closed when the server
// ends the stream.
func stream(t *testing.T, b *browser) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.env.PublicURL+"/events", nil)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("/events: %d", resp.StatusCode)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
	return done
}

func closedWithin(t *testing.T, done <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("the event stream stayed open %s after %s", d, what)
	}
}

func stillOpen(t *testing.T, done <-chan struct{}, d time.Duration) {
	t.Helper()
	select {
	case <-done:
		t.Fatal("the event stream closed with nothing revoked")
	case <-time.After(d):
	}
}

// Resetting a password with `parley user add` ends that user's sessions,
// and their open event stream closes.
func TestPasswordResetEndsSessionsAndStreams(t *testing.T) {
	env, users := setup(t)
	b, _ := signedIn(t, env, users, "agent")
	done := stream(t, b)
	stillOpen(t, done, 2500*time.Millisecond)
	if _, _, err := app.UserAdd(context.Background(), env.Store, users["agent"], "agent", "a new password for ana"); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, done, 10*time.Second, "the password reset")
	if resp, _ := b.do(t, http.MethodGet, "/", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the old session after a password reset: %d, want sent to sign in", resp.StatusCode)
	}
}

// A change of the user's brands or their disabling closes the stream (it
// reconnects with what the user may now see, or not at all).
func TestBrandChangeAndDisableCloseStreams(t *testing.T) {
	env, users := setup(t)
	if _, err := app.BrandAdd(context.Background(), env.Store, app.BrandAddInput{Slug: "sky-eats", Name: "Sky Eats", MPS: 1}); err != nil {
		t.Fatal(err)
	}
	admin, csrf := signedIn(t, env, users, "admin")
	agent, _ := signedIn(t, env, users, "agent")
	var id string
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM users WHERE email = $1`, users["agent"]).Scan(&id); err != nil {
		t.Fatal(err)
	}
	done := stream(t, agent)
	if resp, _ := post(t, admin, "/admin/users/"+id, csrf, url.Values{"role": {"agent"}, "name": {"Ana"}, "brand": {"sky-eats"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("limit the agent to sky-eats: %d", resp.StatusCode)
	}
	closedWithin(t, done, 10*time.Second, "the user's brands changed")
	done = stream(t, agent)
	stillOpen(t, done, 2500*time.Millisecond)
	if resp, _ := post(t, admin, "/admin/users/"+id, csrf, url.Values{"role": {"agent"}, "name": {"Ana"}, "brand": {"sky-eats"}, "disabled": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable the agent: %d", resp.StatusCode)
	}
	closedWithin(t, done, 10*time.Second, "the user was disabled")
}

// Changing one's password ends every session, this one too, and carries
// this browser on in a new session: the old cookie is worth nothing.
func TestPasswordChangeRotatesTheSession(t *testing.T) {
	env, users := setup(t)
	b, _ := signedIn(t, env, users, "agent")
	other, _ := signedIn(t, env, users, "agent")
	u, _ := url.Parse(env.PublicURL)
	var old *http.Cookie
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "parley_session" {
			old = c
		}
	}
	_, page := b.do(t, http.MethodGet, "/account", nil)
	resp, _ := b.do(t, http.MethodPost, "/account/password", url.Values{"csrf_token": {csrfOf(t, page)},
		"current_password": {"correct horse agent"}, "new_password": {"another long passphrase"}, "confirm_password": {"another long passphrase"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d", resp.StatusCode)
	}
	if r, _ := b.do(t, http.MethodGet, "/account", nil); r.StatusCode != 200 {
		t.Fatalf("this browser after the change: %d, want still signed in", r.StatusCode)
	}
	if r, _ := other.do(t, http.MethodGet, "/", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("another session after the change: %d, want signed out", r.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, env.PublicURL+"/account", nil)
	req.AddCookie(&http.Cookie{Name: "parley_session", Value: old.Value})
	r, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the session cookie from before the change: %d, want it ended", r.StatusCode)
	}
}
