package console

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/web"
)

// QueuesPath is where the queue monitor (Handlers.Queues) is mounted.
const QueuesPath = "/admin/queues"

// mountQueues serves the queue monitor to signed-in admins. Its pages are
// a single-page application with inline bootstrapping, so they get their
// own Content-Security-Policy (same origin only, inline allowed) instead of
// the console's. Its own API's writes (retry, delete, pause a queue) cannot
// carry the console's CSRF token: they must come from this origin instead
// (Origin or Sec-Fetch-Site), on top of the session cookie being SameSite,
// and each is recorded in the audit log.
func (h *Handlers) mountQueues(e *echo.Echo) {
	if h.Queues == nil {
		return
	}
	g := e.Group(QueuesPath, middleware.BodyLimit("64K"), h.queueSession, h.require(auth.Admin))
	serve := echo.WrapHandler(h.Queues)
	g.GET("", serve)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		g.Add(m, "/*", serve)
	}
}

func (h *Handlers) queueSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		ss, token, ok := h.sessionOf(c)
		if !ok {
			return notSignedIn(c)
		}
		write := c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead
		if write && !sameOrigin(c.Request()) {
			return c.String(http.StatusForbidden, "a change to the queues must come from this site\n")
		}
		c.Set(ctxSession, ss)
		c.Set(ctxToken, token)
		err := next(c)
		if write && err == nil && c.Response().Status < 400 && auth.Can(ss.User.Role, auth.Admin) {
			h.Audit.Record(c.Request().Context(), audit.Entry{ActorType: audit.User, Actor: ss.User.Email, ActorID: ss.User.ID,
				Action: "queues." + map[string]string{http.MethodPost: "post", http.MethodDelete: "delete", http.MethodPut: "put",
					http.MethodPatch: "patch"}[c.Request().Method], Target: c.Request().URL.Path, Status: c.Response().Status,
				IP: c.RealIP(), RequestID: c.Request().Header.Get(web.RequestIDHeader)})
		}
		return err
	}
}

// sameOrigin: the browser says the request comes from this site.
func sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin"
	}
	o, err := url.Parse(r.Header.Get("Origin"))
	return err == nil && o.Host != "" && o.Host == r.Host
}
