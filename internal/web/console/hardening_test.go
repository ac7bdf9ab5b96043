package console_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/web/console"
)

// After sign-in, `next` may only lead to a path of this site: a tab, a
// newline, a backslash, a scheme or a host sends the user to / instead
// (and a NUL is refused outright).
func TestLoginNextStaysOnSite(t *testing.T) {
	env, users := setup(t)
	cases := map[string]string{
		"/conversations?status=open": "/conversations?status=open",
		"/account":                   "/account",
		"/\t/evil.example":           "/",
		"/\n/evil.example":           "/",
		"/\r\n/evil.example":         "/",
		"//evil.example":             "/",
		"/\\evil.example":            "/",
		"\\\\evil.example":           "/",
		"https://evil.example/":      "/",
		"javascript:alert(1)":        "/",
		"evil.example":               "/",
		"":                           "/",
	}
	for next, want := range cases {
		b := newBrowser(t, env)
		_, page := b.do(t, http.MethodGet, "/login?next="+url.QueryEscape(next), nil)
		resp, _ := b.do(t, http.MethodPost, "/login", url.Values{"csrf_token": {csrfOf(t, page)}, "email": {users["agent"]},
			"password": {"correct horse agent"}, "next": {next}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("next %q: %d to %q, want %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// A NUL is no text at all: the page and the form are refused (400).
	b := newBrowser(t, env)
	if resp, _ := b.do(t, http.MethodGet, "/login?next="+url.QueryEscape("/ok\x00"), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /login with a NUL in next: %d, want 400", resp.StatusCode)
	}
	_, page := b.do(t, http.MethodGet, "/login", nil)
	resp, _ := b.do(t, http.MethodPost, "/login", url.Values{"csrf_token": {csrfOf(t, page)}, "email": {users["agent"]},
		"password": {"correct horse agent"}, "next": {"/ok\x00"}})
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("sign-in with a NUL in next: %d to %q, want 400", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Every console route reads at most 64 KiB of body: a bigger sign-in form is
// refused with 413 before any password is checked.
func TestConsoleBodyLimit(t *testing.T) {
	env, users := setup(t)
	b := newBrowser(t, env)
	_, page := b.do(t, http.MethodGet, "/login", nil)
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "email": {users["agent"]}, "password": {"correct horse agent"},
		"pad": {strings.Repeat("x", 70<<10)}}
	if resp, _ := b.do(t, http.MethodPost, "/login", form); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 70 KiB sign-in form: %d, want 413", resp.StatusCode)
	}
	form.Set("pad", strings.Repeat("x", 60<<10))
	if resp, _ := b.do(t, http.MethodPost, "/login", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a 60 KiB sign-in form: %d, want the sign-in to go through", resp.StatusCode)
	}
}

// Over https the console's cookies carry the __Host- prefix (Secure, path /,
// no Domain): a sibling subdomain can neither set nor shadow them.
func TestHTTPSCookiesUseHostPrefix(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{true, false} {
		e := echo.New()
		(&console.Handlers{Secure: secure, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Register(e)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login", nil))
		cookies := (&http.Response{Header: w.Header()}).Cookies()
		if len(cookies) != 1 {
			t.Fatalf("secure %v: cookies %v", secure, cookies)
		}
		c := cookies[0]
		want := "parley_login_csrf"
		if secure {
			want = "__Host-parley_login_csrf"
		}
		if c.Name != want || c.Secure != secure || c.Path != "/" || c.Domain != "" {
			t.Fatalf("secure %v: cookie %+v, want %s", secure, c, want)
		}
	}
}

// ?flash= picks one of a fixed set of sentences: words from a link are never
// shown inside the console.
func TestFlashIsAFixedCode(t *testing.T) {
	env, users := setup(t)
	b := newBrowser(t, env)
	if resp, _ := b.login(t, users["agent"], "correct horse agent"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	lure := "Your session expired: call +1 555 0100 to restore access"
	for _, path := range []string{"/?flash=", "/account?flash="} {
		resp, page := b.do(t, http.MethodGet, path+url.QueryEscape(lure), nil)
		if resp.StatusCode != 200 || strings.Contains(page, "call +1 555 0100") || strings.Contains(page, `class="flash"`) {
			t.Fatalf("GET %s<lure>: %d, the page shows a flash of the link's words", path, resp.StatusCode)
		}
	}
	if _, page := b.do(t, http.MethodGet, "/account?flash=password_changed", nil); !strings.Contains(page, "Password changed; your other sessions were signed out") {
		t.Fatal("a known flash code shows no sentence")
	}
}
