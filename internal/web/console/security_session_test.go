package console_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/auth"
)

// sessionToken is the session cookie b holds ("" for none).
func (b *browser) sessionToken(t *testing.T) string {
	t.Helper()
	u, _ := url.Parse(b.env.PublicURL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "parley_session" {
			return c.Value
		}
	}
	return ""
}

// plant sets b's session cookie to token, as an attacker able to write
// the victim's cookies would.
func (b *browser) plant(token string) {
	u, _ := url.Parse(b.env.PublicURL)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "parley_session", Value: token, Path: "/"}})
}

// withToken is a fresh browser holding only the session cookie token.
func withToken(t *testing.T, b *browser, token string) *browser {
	t.Helper()
	o := newBrowser(t, b.env)
	o.plant(token)
	return o
}

func hashOf(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Session fixation: whatever session id a browser carries into the sign-in
// (one made up by an attacker, or a live one of another account), it
// leaves with a new one, and the old id opens nothing afterwards. Expiry:
// a session idle past auth.IdleTimeout, or older than its absolute
// lifetime however active, is refused and deleted; activity never moves
// the absolute expiry.
func TestSecuritySessionFixationAndExpiry(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	signedInAt := func(b *browser, path string) bool {
		t.Helper()
		resp, _ := b.do(t, http.MethodGet, path, nil)
		return resp.StatusCode == http.StatusOK
	}

	t.Run("made-up id", func(t *testing.T) {
		const forged = "attacker-chosen-session-id-0123456789abcdef"
		victim := newBrowser(t, env)
		victim.plant(forged)
		if resp, _ := victim.login(t, users["agent"], "correct horse agent"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		got := victim.sessionToken(t)
		if got == "" || got == forged {
			t.Fatalf("after sign-in the browser holds %q, want a new session id", got)
		}
		if n := env.Count(t, `SELECT count(*) FROM sessions WHERE token_hash = $1`, hashOf(forged)); n != 0 {
			t.Fatal("the made-up id became a session")
		}
		if signedInAt(withToken(t, victim, forged), "/") {
			t.Fatal("the made-up id opens the inbox")
		}
		if !signedInAt(victim, "/") {
			t.Fatal("the new session does not open the inbox")
		}
	})

	t.Run("live id of another account", func(t *testing.T) {
		attacker := newBrowser(t, env)
		if resp, _ := attacker.login(t, users["marketer"], "correct horse marketer"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("attacker sign-in: %d", resp.StatusCode)
		}
		planted := attacker.sessionToken(t)
		victim := newBrowser(t, env)
		victim.plant(planted)
		if resp, _ := victim.login(t, users["agent"], "correct horse agent"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("victim sign-in: %d", resp.StatusCode)
		}
		if got := victim.sessionToken(t); got == "" || got == planted {
			t.Fatalf("the victim kept the planted session id")
		}
		if signedInAt(attacker, "/campaigns") {
			t.Fatal("the session id the victim carried into the sign-in still works afterwards")
		}
		if !signedInAt(victim, "/") {
			t.Fatal("the victim's new session does not open the inbox")
		}
	})

	// age moves a session's clock back: its last visit by idle, its
	// expiry to expires (relative to now).
	age := func(t *testing.T, token string, idle time.Duration, expires time.Duration) {
		t.Helper()
		if _, err := env.Store.Pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - $2::interval,
			expires_at = now() + $3::interval WHERE token_hash = $1`, hashOf(token), idle.String(), expires.String()); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("idle", func(t *testing.T) {
		b, csrf := signedIn(t, env, users, "agent")
		token := b.sessionToken(t)
		age(t, token, auth.IdleTimeout-time.Minute, time.Hour)
		if !signedInAt(b, "/") {
			t.Fatal("a session idle just under the idle timeout was refused")
		}
		if n := env.Count(t, `SELECT count(*) FROM sessions WHERE token_hash = $1 AND last_seen_at > now() - interval '1 minute'`, hashOf(token)); n != 1 {
			t.Fatal("a visit did not renew the idle clock")
		}
		age(t, token, auth.IdleTimeout+time.Minute, time.Hour)
		// A change with the idle session's token is refused too.
		if resp, _ := post(t, b, "/account/presence", csrf, url.Values{"presence": {"away"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a change with an idle session: %d, want 403", resp.StatusCode)
		}
		if signedInAt(b, "/") {
			t.Fatal("a session idle past the idle timeout still opens the inbox")
		}
		if n := env.Count(t, `SELECT count(*) FROM sessions WHERE token_hash = $1`, hashOf(token)); n != 0 {
			t.Fatal("an idle session was refused but not deleted")
		}
		if n := env.Count(t, `SELECT count(*) FROM users WHERE email = $1 AND presence = 'away'`, users["agent"]); n != 0 {
			t.Fatal("a change with an idle session went through")
		}
	})

	t.Run("absolute", func(t *testing.T) {
		b := newBrowser(t, env)
		resp, _ := b.login(t, users["agent"], "correct horse agent")
		var maxAge int
		for _, c := range resp.Cookies() {
			if c.Name == "parley_session" {
				maxAge = c.MaxAge
			}
		}
		if maxAge != int(auth.AbsoluteTimeout.Seconds()) {
			t.Fatalf("session cookie Max-Age %d, want the absolute lifetime %d", maxAge, int(auth.AbsoluteTimeout.Seconds()))
		}
		token := b.sessionToken(t)
		var lifetime float64
		if err := env.Store.Pool.QueryRow(ctx, `SELECT extract(epoch FROM expires_at - created_at) FROM sessions WHERE token_hash = $1`,
			hashOf(token)).Scan(&lifetime); err != nil {
			t.Fatal(err)
		}
		if d := time.Duration(lifetime * float64(time.Second)); d < auth.AbsoluteTimeout-time.Minute || d > auth.AbsoluteTimeout+time.Minute {
			t.Fatalf("a new session lives %s, want %s", d, auth.AbsoluteTimeout)
		}
		expiry := func() string {
			var s string
			if err := env.Store.Pool.QueryRow(ctx, `SELECT expires_at::text FROM sessions WHERE token_hash = $1`, hashOf(token)).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		before := expiry()
		for i := 0; i < 3; i++ {
			if !signedInAt(b, "/?n="+strconv.Itoa(i)) {
				t.Fatal("a fresh session was refused")
			}
		}
		if after := expiry(); after != before {
			t.Fatalf("activity moved the absolute expiry from %s to %s", before, after)
		}
		// Active a second ago, but past its absolute lifetime.
		age(t, token, time.Second, -time.Second)
		if signedInAt(b, "/") {
			t.Fatal("a session past its absolute expiry still opens the inbox")
		}
		if n := env.Count(t, `SELECT count(*) FROM sessions WHERE token_hash = $1`, hashOf(token)); n != 0 {
			t.Fatal("an expired session was refused but not deleted")
		}
	})
}
