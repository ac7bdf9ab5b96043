// Package api is Parley's JSON API under /api/v1: bearer API keys, the
// {"data": …} envelope, errors from the apierr catalogue, and the OpenAPI
// document describing it.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/trigger"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// RateLimiter limits each key's requests (queue.RequestLimiter).
type RateLimiter interface {
	Allow(ctx context.Context, client string, rate int) (ok bool, retryAfter time.Duration, err error)
}

// Handlers serves the JSON API.
type Handlers struct {
	// Limit, when set, holds each key to its rate (429 rate_limited beyond).
	Limit RateLimiter
	// Hooks, when set, is the process's webhook service (its subscription
	// cache and delivery queue).
	Hooks *hooks.Service
	// Reports, when set, is where the analytics read (a read replica);
	// nil reads them from the primary.
	Reports *store.Store

	st       *store.Store
	log      *slog.Logger
	contacts *contact.Service
	ledger   *consent.Ledger
	outbox   *outbound.Outbox
	// automation edits brand settings and auto-replies; its book (the
	// inbound path's cache) is told of each change.
	automation *automation.Service
	campaigns  *campaign.Service
	triggers   *trigger.Service
	audit      *audit.Recorder
}

// New returns the API handlers. The identity service and the consent ledger
// are thin, stateless layers over st, so they are built here rather than
// passed in.
func New(st *store.Store, log *slog.Logger, outbox *outbound.Outbox, book *automation.Book, campaigns *campaign.Service,
	triggers *trigger.Service) *Handlers {
	return &Handlers{st: st, log: log, contacts: contact.NewService(st), ledger: consent.NewLedger(st), outbox: outbox,
		automation: automation.NewService(st, book), campaigns: campaigns, triggers: triggers,
		audit: audit.NewRecorder(st, log)}
}

// Register mounts the API routes; everything but the OpenAPI document needs a key.
func (h *Handlers) Register(e *echo.Echo) {
	e.GET(prefix+"/openapi.json", h.openapi)
	g := e.Group(prefix, limitBody, h.auth)
	h.routes(g)
}

// limitBody bounds every API request's body before anything reads it —
// maxBody, or the route's own limit in bodyLimits: a declared length past
// it is refused at once with 413 (a route that reads no body included),
// and a longer body than declared stops at the limit.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := int64(maxBody)
		if l, ok := bodyLimits[strings.TrimPrefix(c.Path(), prefix)]; ok {
			limit = l
		}
		r := c.Request()
		if r.ContentLength > limit {
			return apierr.Write(c, apierr.New("payload_too_large", "the body is %d bytes; the limit is %d", r.ContentLength, limit))
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}

// ctxAPIKeyID is the echo context key holding the id of the request's API key
// (an int64), set by auth: what belongs to a client, such as its idempotency
// keys, is keyed by it.
const ctxAPIKeyID = "parley.api_key_id" //nolint:gosec // G101: a context key name, not a credential

// auth checks the bearer API key.
func (h *Handlers) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		authz := c.Request().Header.Get("Authorization")
		key, ok := strings.CutPrefix(authz, "Bearer ")
		if !ok || strings.TrimSpace(key) == "" {
			return apierr.Write(c, apierr.New("unauthorized", "send an API key as Authorization: Bearer <key>"))
		}
		k, err := h.st.APIKeyByKey(c.Request().Context(), strings.TrimSpace(key))
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return apierr.Write(c, apierr.New("unauthorized", "the API key is unknown or revoked"))
			}
			return h.internal(c, err)
		}
		c.Set(ctxAPIKeyID, k.ID)
		c.Set(ctxAPIKey, k)
		if h.Limit != nil {
			ok, wait, err := h.Limit.Allow(c.Request().Context(), "apikey:"+strconv.FormatInt(k.ID, 10), k.Rate)
			if err != nil {
				// Redis is down: the API stays up, unlimited, rather than
				// failing every request.
				h.log.Warn("api rate limit unavailable; request allowed", "err", err)
			} else if !ok {
				c.Response().Header().Set("Retry-After", strconv.Itoa(int(max((wait+time.Second-1)/time.Second, 1))))
				return apierr.Write(c, apierr.New("rate_limited", "this API key is over its rate of %d requests per second", k.Rate))
			}
		}
		return next(c)
	}
}

// ctxAPIKey holds the request's store.APIKey.
const ctxAPIKey = "parley.api_key" //nolint:gosec // G101: a context key name, not a credential

func apiKey(c echo.Context) store.APIKey {
	k, _ := c.Get(ctxAPIKey).(store.APIKey)
	return k
}

// need is a route's scope: a key without it is refused with 403 before the
// handler runs.
func need(s auth.Scope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !auth.KeyHasScope(apiKey(c).KeyAccess, s) {
				return apierr.Write(c, apierr.New("forbidden", "this API key lacks the scope %s", s))
			}
			return next(c)
		}
	}
}

// brandAllowed is nil when the request's key may touch brand b, else the
// 403 naming it.
func brandAllowed(c echo.Context, brandID int64, slug string) *apierr.Error {
	if auth.KeyHasBrand(apiKey(c).KeyAccess, brandID) {
		return nil
	}
	return apierr.Field("forbidden", "brand", "this API key may not touch the brand %q", slug)
}

// onlyBrands is the brand filter of a list for the request's key: nil for
// a key of every brand.
func onlyBrands(c echo.Context) []int64 {
	k := apiKey(c)
	if k.AllBrands {
		return nil
	}
	if k.BrandIDs == nil {
		return []int64{}
	}
	return k.BrandIDs
}

func (h *Handlers) internal(c echo.Context, err error) error {
	h.log.Error("api request failed", "path", c.Path(), "err", err)
	return apierr.Write(c, apierr.New("internal", "internal error"))
}

// ok writes the {"data": …} envelope.
func ok(c echo.Context, status int, data any) error {
	return c.JSON(status, map[string]any{"data": data})
}

var _ = http.StatusOK

// reports is the store the analytics read from.
func (h *Handlers) reports() *store.Store {
	if h.Reports != nil {
		return h.Reports
	}
	return h.st
}
