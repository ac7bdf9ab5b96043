// Package console is the agents' web console, served by `parley serve`:
// server-rendered pages from templates/, one action per file, sessions and
// CSRF from internal/auth, and a strict Content-Security-Policy.
package console

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/trigger"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/templates"
)

const (
	sessionCookie = "parley_session"
	loginCSRF     = "parley_login_csrf"
	ctxSession    = "console.session"
	ctxToken      = "console.token"
)

// Handlers serves the console.
type Handlers struct {
	Auth  *auth.Service
	Store *store.Store
	// Reports, when set, is where the analytics read (a read replica);
	// nil reads them from Store.
	Reports *store.Store
	Log     *slog.Logger
	Secure  bool // cookies only over https (PARLEY_PUBLIC_URL is https)

	Conversations *conversation.Service
	Automation    *automation.Service // brand settings and auto-replies
	Hub           *realtime.Hub
	Campaigns     *campaign.Service
	Triggers      *trigger.Service
	Webhooks      *hooks.Service  // brands' outbound webhook subscriptions
	Audit         *audit.Recorder // every change made here, and each sign-in
	Queues        http.Handler    // the queue monitor, for admins at QueuesPath (none when nil)

	pages   map[string]*template.Template
	assets  []asset
	streams streamWatch // the open event streams, checked for revocation together
}

type asset struct {
	name string
	body []byte
}

// Route is one signed-in console route and the permission it needs. The
// table is what Register mounts and what the role-matrix test walks.
type Route struct {
	Method, Path string
	Perm         auth.Permission
	handler      echo.HandlerFunc
}

// Routes lists every signed-in console route.
func (h *Handlers) Routes() []Route {
	rs := []Route{{Method: http.MethodPost, Path: "/logout", Perm: "", handler: h.logout}}
	rs = append(rs, h.inboxRoutes()...)
	rs = append(rs, h.adminRoutes()...)
	rs = append(rs, h.campaignRoutes()...)
	rs = append(rs, h.triggerRoutes()...)
	rs = append(rs, h.importRoutes()...)
	rs = append(rs, h.contactRoutes()...)
	rs = append(rs, h.accountRoutes()...)
	rs = append(rs, h.auditRoutes()...)
	rs = append(rs, h.analyticsRoutes()...)
	return rs
}

// Register mounts the console routes. It panics if a page fails to parse:
// the program must not start with a broken console.
func (h *Handlers) Register(e *echo.Echo) {
	h.pages = map[string]*template.Template{}
	names, err := fs.Glob(templates.FS, "console_*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		if n == "console_layout.html" || n == "console_partials.html" {
			continue
		}
		t, err := templates.Parse(n, "console_layout.html", "console_partials.html")
		if err != nil {
			panic(fmt.Sprintf("console: page %s: %v", n, err))
		}
		h.pages[strings.TrimSuffix(strings.TrimPrefix(n, "console_"), ".html")] = t
	}
	for _, a := range []string{"console.css", "console.js"} {
		b, err := templates.FS.ReadFile(a)
		if err != nil {
			panic(fmt.Sprintf("console: asset %s: %v", a, err))
		}
		h.assets = append(h.assets, asset{name: a, body: b})
	}
	// Every console route reads at most 64 KiB of body (413 beyond), before
	// any handler or authentication runs; a file upload at most its own
	// limit.
	upload := func(c echo.Context) bool {
		return c.Request().Method == http.MethodPost && c.Path() == "/contacts/import"
	}
	g := e.Group("", securityHeaders,
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "64K", Skipper: upload}),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: strconv.Itoa(maxUploadBytes>>20+1) + "M",
			Skipper: func(c echo.Context) bool { return !upload(c) }}),
		cleanForm)
	g.GET("/static/console.css", h.asset("console.css", "text/css; charset=utf-8"))
	g.GET("/static/console.js", h.asset("console.js", "text/javascript; charset=utf-8"))
	g.GET("/favicon.ico", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	g.GET("/login", h.loginShow)
	g.POST("/login", h.loginSubmit)
	h.mountQueues(e)
	signedIn := g.Group("", h.requireSession)
	for _, r := range h.Routes() {
		var mw []echo.MiddlewareFunc
		if audit.Recorded(r.Method, r.Path) {
			mw = append(mw, h.audited(r))
		}
		if r.Perm != "" {
			mw = append(mw, h.require(r.Perm))
		}
		signedIn.Add(r.Method, r.Path, r.handler, mw...)
	}
}

// cleanForm refuses, with a 400 naming the field, a posted form holding a
// name or a value that is not UTF-8 text without NUL characters: a
// browser never sends one, and Postgres would refuse to store or search
// it (a 500). Uploads (multipart) are the importer's to judge.
func cleanForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			return next(c)
		}
		form, err := c.FormParams()
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return err // past the body limit: 413
		}
		if err != nil {
			return c.String(http.StatusBadRequest, "the form cannot be read\n")
		}
		for name, values := range form {
			if !web.CleanText(name) {
				return c.String(http.StatusBadRequest, "a field's name must be UTF-8 text without NUL characters\n")
			}
			for _, v := range values {
				if !web.CleanText(v) {
					return c.String(http.StatusBadRequest, name+": must be UTF-8 text without NUL characters\n")
				}
			}
		}
		return next(c)
	}
}

// securityHeaders: customer text is untrusted and rendered escaped; the CSP
// makes sure that even a mistake there runs nothing.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

// requireSession sends anonymous visitors to the sign-in page and checks the
// CSRF token of every state-changing request.
func (h *Handlers) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ss, token, ok := h.sessionOf(c)
		if !ok {
			return notSignedIn(c)
		}
		if c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
			submitted := c.Request().Header.Get("X-CSRF-Token")
			if submitted == "" {
				submitted = c.FormValue("csrf_token")
			}
			if !auth.CSRFValid(ss, submitted) {
				return c.String(http.StatusForbidden, "missing or wrong CSRF token\n")
			}
		}
		c.Set(ctxSession, ss)
		c.Set(ctxToken, token)
		return next(c)
	}
}

// sessionOf is the session the request's cookie names, and its token;
// ok is false when there is none (or it ended).
func (h *Handlers) sessionOf(c echo.Context) (ss store.Session, token string, ok bool) {
	if ck, _ := h.cookie(c, sessionCookie); ck != nil {
		token = ck.Value
	}
	ss, err := h.Auth.Authenticate(c.Request().Context(), token)
	return ss, token, err == nil
}

// notSignedIn answers a visitor without a session: a change is refused,
// a page sends to the sign-in page and back.
func notSignedIn(c echo.Context) error {
	if c.Request().Method != http.MethodGet {
		return c.String(http.StatusForbidden, "not signed in\n")
	}
	return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
}

// require answers 403 to a signed-in user whose role lacks p.
func (h *Handlers) require(p auth.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if role := session(c).User.Role; !auth.Can(role, p) {
				if c.Request().Method == http.MethodGet {
					return h.render(c, http.StatusForbidden, "error", map[string]any{
						"Message": "Your role (" + role + ") cannot open this page.", "Back": "/account"})
				}
				return c.String(http.StatusForbidden, "your role cannot do this\n")
			}
			return next(c)
		}
	}
}

func session(c echo.Context) store.Session {
	ss, _ := c.Get(ctxSession).(store.Session)
	return ss
}

// render executes a page. For a signed-in user it adds what the layout
// needs: the user, the CSRF token, presence, and which areas the role opens.
func (h *Handlers) render(c echo.Context, status int, name string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	if ss, ok := c.Get(ctxSession).(store.Session); ok {
		data["User"] = &ss.User
		data["CSRF"] = ss.CSRFToken
		data["Presence"] = ss.User.Presence
		can := map[string]bool{}
		for _, p := range []auth.Permission{auth.Inbox, auth.Contacts, auth.Marketing, auth.Admin, auth.Account} {
			can[string(p)] = auth.Can(ss.User.Role, p)
		}
		data["Can"] = can
	}
	if f := flashText(c.QueryParam("flash")); f != "" && data["Flash"] == nil {
		data["Flash"] = f
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		h.Log.Error("console: render", "page", name, "err", err)
		return c.String(http.StatusInternalServerError, "the page could not be rendered\n")
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func (h *Handlers) asset(name, contentType string) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, a := range h.assets {
			if a.name == name {
				c.Response().Header().Set("Cache-Control", "no-cache")
				return c.Blob(http.StatusOK, contentType, a.body)
			}
		}
		return echo.ErrNotFound
	}
}

// setRetryAfter says, in whole seconds (at least one), when to try again.
func setRetryAfter(c echo.Context, d time.Duration) {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(max((d+time.Second-1)/time.Second, 1))))
}

// cookieName is name with the __Host- prefix over https: a browser then
// takes the cookie only if it is Secure, for path / and from this very host
// (no Domain), so no sibling subdomain can plant or shadow it.
func (h *Handlers) cookieName(name string) string {
	if h.Secure {
		return "__Host-" + name
	}
	return name
}

func (h *Handlers) cookie(c echo.Context, name string) (*http.Cookie, error) {
	return c.Cookie(h.cookieName(name))
}

func (h *Handlers) setCookie(c echo.Context, name, value string, maxAge int) {
	// Secure over https only: the dev console runs on http://localhost.
	//nolint:gosec // G124: HttpOnly and SameSite always; Secure whenever PARLEY_PUBLIC_URL is https
	c.SetCookie(&http.Cookie{Name: h.cookieName(name), Value: value, Path: "/", HttpOnly: true, Secure: h.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

// safeNext keeps a post-login redirect on this site: only a path that parses
// with no scheme and no host, starts with one slash, and holds no control
// character (a browser drops tabs and newlines, so "/\t/evil.example" would
// read "//evil.example") and no backslash (read as a slash). Anything else
// is "/".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// reports is the store the analytics read from.
func (h *Handlers) reports() *store.Store {
	if h.Reports != nil {
		return h.Reports
	}
	return h.Store
}
