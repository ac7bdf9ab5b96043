// Package web builds Parley's HTTP server: health and metrics endpoints, the
// Twilio webhooks, the JSON API and (later) the console, each in its own
// adapter package.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
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

// New returns the echo server with the health, readiness and metrics routes
// and every registrar's routes.
func New(log *slog.Logger, m *metrics.Metrics, h Health, regs ...Registrar) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(log)
	e.Use(recoverer(log), countRequests(m))

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		res := map[string]string{"postgres": "ok", "redis": "ok"}
		code := http.StatusOK
		if err := h.Postgres(ctx); err != nil {
			res["postgres"], code = err.Error(), http.StatusServiceUnavailable
		}
		if h.Redis != nil {
			if err := h.Redis(ctx); err != nil {
				res["redis"], code = err.Error(), http.StatusServiceUnavailable
			}
		}
		return c.JSON(code, res)
	})
	e.GET("/metrics", echo.WrapHandler(m.Handler()))
	for _, r := range regs {
		r.Register(e)
	}
	return e
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

func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
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
