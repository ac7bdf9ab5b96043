// Package web builds Parley's HTTP server: health and metrics endpoints, the
// Twilio webhooks, the JSON API and (later) the console, each in its own
// adapter package.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/metrics"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// Registrar mounts a group of routes.
type Registrar interface {
	Register(e *echo.Echo)
}

// Health reports whether the process's dependencies answer.
type Health struct {
	Postgres func(context.Context) error
	Redis    func(context.Context) error
}

// Options are the server's security settings.
type Options struct {
	// TrustedProxies are the proxies whose X-Forwarded-For names the client;
	// with none (the default) the client is the TCP peer.
	TrustedProxies []*net.IPNet
	// FlyClientIP takes the client from Fly's Fly-Client-IP header (on Fly,
	// FLY_APP_NAME is set; Fly's proxy overwrites the header on every
	// request).
	FlyClientIP bool
	// MetricsToken, when set, is the Bearer token GET /metrics requires.
	MetricsToken string
	// HTTPS (PARLEY_PUBLIC_URL is https) adds Strict-Transport-Security.
	HTTPS bool
}

// New returns the echo server with the health, readiness and metrics routes
// and every registrar's routes.
func New(log *slog.Logger, m *metrics.Metrics, h Health, opt Options, regs ...Registrar) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(log)
	e.IPExtractor = ClientIP(opt.TrustedProxies, opt.FlyClientIP)
	e.Use(requestID, recoverer(log), countRequests(m), cleanQuery)
	if opt.HTTPS {
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.Response().Header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
				return next(c)
			}
		})
	}

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		// Fixed words only: a driver's error names the host, user and
		// database, which is no one's business outside.
		res := map[string]string{"postgres": "ok", "redis": "ok"}
		code := http.StatusOK
		if err := h.Postgres(ctx); err != nil {
			log.Warn("readiness: postgres unavailable", "err", err)
			res["postgres"], code = "postgres unavailable", http.StatusServiceUnavailable
		}
		if h.Redis != nil {
			if err := h.Redis(ctx); err != nil {
				log.Warn("readiness: redis unavailable", "err", err)
				res["redis"], code = "redis unavailable", http.StatusServiceUnavailable
			}
		}
		return c.JSON(code, res)
	})
	e.GET("/metrics", echo.WrapHandler(m.Handler()), metricsAuth(opt.MetricsToken))
	for _, r := range regs {
		r.Register(e)
	}
	return e
}

// StatusOf is the status a handler's answer has or will have: an
// *echo.HTTPError's code, 500 for another error, else what was written.
func StatusOf(c echo.Context, err error) int {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		return he.Code
	case err != nil:
		return http.StatusInternalServerError
	}
	return c.Response().Status
}

// RequestIDHeader carries each request's id: the caller's when it sent a
// plausible one, else a new one; it is answered back and recorded with
// every audit entry.
const RequestIDHeader = "X-Request-Id"

func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(RequestIDHeader)
		if !plausibleID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			c.Request().Header.Set(RequestIDHeader, id)
		}
		c.Response().Header().Set(RequestIDHeader, id)
		return next(c)
	}
}

// plausibleID: 8 to 64 letters, digits, '-', '_' or '.'.
func plausibleID(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// metricsAuth requires "Authorization: Bearer token" when token is set.
func metricsAuth(token string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if token == "" {
			return next
		}
		want := []byte("Bearer " + token)
		return func(c echo.Context) error {
			if subtle.ConstantTimeCompare([]byte(c.Request().Header.Get("Authorization")), want) != 1 {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				e := apierr.New("unauthorized", "GET /metrics needs Authorization: Bearer <PARLEY_METRICS_TOKEN>")
				e.Status = http.StatusUnauthorized
				return apierr.Write(c, e)
			}
			return next(c)
		}
	}
}

// ClientIP is how the server tells a client's address (sign-in limits, logs):
// the TCP peer, unless the peer is a trusted proxy, in which case the
// nearest X-Forwarded-For address that is not one; on Fly, the
// Fly-Client-IP header Fly's proxy sets.
func ClientIP(trusted []*net.IPNet, fly bool) echo.IPExtractor {
	var xff echo.IPExtractor
	if len(trusted) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range trusted {
			opts = append(opts, echo.TrustIPRange(n))
		}
		xff = echo.ExtractIPFromXFFHeader(opts...)
	}
	direct := echo.ExtractIPDirect()
	return func(r *http.Request) string {
		if fly {
			if ip := net.ParseIP(strings.TrimSpace(r.Header.Get("Fly-Client-IP"))); ip != nil {
				return ip.String()
			}
		}
		if xff != nil {
			return xff(r)
		}
		return direct(r)
	}
}

func countRequests(m *metrics.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			code := c.Response().Status
			var he *echo.HTTPError
			if errors.As(err, &he) {
				code = he.Code
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			m.HTTPRequestsByCode.WithLabelValues(route, http.StatusText(code)).Inc()
			return err
		}
	}
}

// recoverer answers a handler's panic with a 500, except
// http.ErrAbortHandler, which a streaming download raises to break off a
// response it had begun (download.Abort): net/http then closes the
// connection without finishing the body, which is the point.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.Error("panic in handler", "path", c.Path(), "panic", r)
					err = apierr.Write(c, apierr.New("internal", "internal error"))
				}
			}()
			return next(c)
		}
	}
}

// errorHandler renders echo's own errors (404 route, 405) in the API envelope.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code := "invalid_request"
			switch he.Code {
			case http.StatusNotFound:
				code = "not_found"
			case http.StatusUnauthorized:
				code = "unauthorized"
			case http.StatusForbidden:
				code = "forbidden"
			case http.StatusRequestEntityTooLarge:
				code = "payload_too_large"
			case http.StatusMethodNotAllowed:
				_ = c.JSON(he.Code, map[string]any{"error": map[string]string{"code": "invalid_request", "message": "method not allowed"}})
				return
			}
			if he.Code >= 500 {
				code = "internal"
			}
			e := apierr.New(code, "%v", he.Message)
			e.Status = he.Code
			_ = apierr.Write(c, e)
			return
		}
		log.Error("request failed", "path", c.Path(), "err", err)
		_ = apierr.Write(c, apierr.New("internal", "internal error"))
	}
}
