package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

type browser struct {
	env    *apptest.Env
	client *http.Client
}

func setup(t *testing.T) (*apptest.Env, map[string]string) {
	t.Helper()
	return setupWith(t, apptest.Options{})
}

// setupWith starts Parley with opt and one user of each role; the password
// of role r is "correct horse r".
func setupWith(t *testing.T, opt apptest.Options) (*apptest.Env, map[string]string) {
	t.Helper()
	t.Parallel()
	env := apptest.New(t, opt)
	users := map[string]string{}
	for _, role := range []string{"admin", "agent", "marketer"} {
		email := role + "@demo-air.example"
		if _, _, err := app.UserAdd(context.Background(), env.Store, email, role, "correct horse "+role); err != nil {
			t.Fatal(err)
		}
		users[role] = email
	}
	return env, users
}

func newBrowser(t *testing.T, env *apptest.Env) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{env: env, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, b.env.PublicURL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf, _ := io.ReadAll(resp.Body)
	return resp, string(buf)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", html)
	}
	return m[1]
}

func (b *browser) login(t *testing.T, email, password string) (*http.Response, string) {
	t.Helper()
	_, page := b.do(t, http.MethodGet, "/login", nil)
	return b.do(t, http.MethodPost, "/login", url.Values{"csrf_token": {csrfOf(t, page)}, "email": {email}, "password": {password}, "next": {"/"}})
}

func TestAnonymousIsSentToLogin(t *testing.T) {
	env, _ := setup(t)
	b := newBrowser(t, env)
	resp, _ := b.do(t, http.MethodGet, "/", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous GET /: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.do(t, http.MethodPost, "/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous POST /logout: %d", resp.StatusCode)
	}
	resp, page := b.do(t, http.MethodGet, "/login", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `name="email"`) || !strings.Contains(page, `name="password"`) {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestLoginLogout(t *testing.T) {
	env, users := setup(t)
	b := newBrowser(t, env)
	resp, _ := b.login(t, users["agent"], "correct horse agent")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "parley_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie %+v (http public URL: not Secure)", session)
	}
	resp, page := b.do(t, http.MethodGet, "/", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Inbox") || !strings.Contains(page, users["agent"]) {
		t.Fatalf("inbox: %d", resp.StatusCode)
	}
	// Logout needs the CSRF token.
	if resp, _ := b.do(t, http.MethodPost, "/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := b.do(t, http.MethodPost, "/logout", url.Values{"csrf_token": {csrfOf(t, page)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	// The old session is gone on the server, not only in the browser.
	req, _ := http.NewRequest(http.MethodGet, env.PublicURL+"/", nil)
	req.AddCookie(&http.Cookie{Name: "parley_session", Value: session.Value})
	old, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	old.Body.Close()
	if old.StatusCode != http.StatusSeeOther {
		t.Fatalf("a logged-out session still works: %d", old.StatusCode)
	}
}

func TestBadLoginsAreGenericAndThrottled(t *testing.T) {
	env, users := setupWith(t, apptest.Options{App: func(o *app.Options) { o.SignInDelay = time.Millisecond }})
	b := newBrowser(t, env)
	_, unknown := b.login(t, "nobody@demo-air.example", "whatever")
	_, wrong := b.login(t, users["agent"], "wrong password")
	if !strings.Contains(unknown, "the email or the password is not right") || !strings.Contains(wrong, "the email or the password is not right") {
		t.Fatal("a bad sign-in must not say which field was wrong")
	}
	// Without the form's CSRF token: refused.
	if resp, _ := b.do(t, http.MethodPost, "/login", url.Values{"email": {users["agent"]}, "password": {"correct horse agent"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF: %d", resp.StatusCode)
	}
	// Two failures so far from this address; 18 more make the limit.
	for i := 0; i < 18; i++ {
		if resp, _ := b.login(t, users["agent"], "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401 (slowed, not refused)", i+3, resp.StatusCode)
		}
	}
	resp, _ := b.login(t, users["agent"], "correct horse agent")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 20 failures from one address: %d, want 429 with Retry-After even with the right password", resp.StatusCode)
	}
}

func TestMarketerHasNoInbox(t *testing.T) {
	env, users := setup(t)
	b := newBrowser(t, env)
	b.login(t, users["marketer"], "correct horse marketer")
	if resp, _ := b.do(t, http.MethodGet, "/", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("marketer GET /: %d, want 403", resp.StatusCode)
	}
}

func TestSecondSignInPageKeepsTheFormValid(t *testing.T) {
	env, users := setup(t)
	b := newBrowser(t, env)
	_, first := b.do(t, http.MethodGet, "/login", nil)
	b.do(t, http.MethodGet, "/favicon.ico", nil)   // what a browser fetches on its own
	b.do(t, http.MethodGet, "/login?next=/x", nil) // or another tab
	resp, _ := b.do(t, http.MethodPost, "/login", url.Values{"csrf_token": {csrfOf(t, first)}, "email": {users["agent"]}, "password": {"correct horse agent"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the first page's form: %d", resp.StatusCode)
	}
}
