package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/web/apierr"
	"github.com/parleyhq/parley/internal/web/download"
)

// auditRoutes are the API's audit routes.
var auditRoutes = []route{
	{http.MethodGet, "/audit", auth.AuditRead, false, (*Handlers).listAudit},
}

type auditJSON struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	ActorType string          `json:"actor_type"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	BrandID   *int64          `json:"brand_id"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	Detail    json.RawMessage `json:"detail"`
	Status    int             `json:"status"`
	IP        string          `json:"ip"`
	RequestID string          `json:"request_id"`
}

// listAudit: GET /api/v1/audit?actor=&action=&since=&until=&limit=&before=
// — the audit log newest first, keyset-paginated (next), limited to the
// key's brands (an entry of no brand only for a key of every brand); with
// Accept: text/csv every entry of the filter as CSV.
func (h *Handlers) listAudit(c echo.Context) error {
	f, err := audit.Query{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Since: c.QueryParam("since"),
		Until: c.QueryParam("until")}.Filter()
	var fe *audit.FieldError
	if errors.As(err, &fe) {
		return apierr.Write(c, apierr.Field("invalid_field", fe.Field, "%s", fe.Msg))
	}
	k := apiKey(c)
	f.AllBrands, f.Brands = k.AllBrands, k.BrandIDs
	if strings.Contains(c.Request().Header.Get("Accept"), "text/csv") {
		dw := download.New(c.Response(), "text/csv; charset=utf-8", download.Filename("audit", "log", time.Now()))
		if _, err := audit.Export(c.Request().Context(), h.st, f, dw, dw.Flush); err != nil {
			if dw.Started() {
				h.log.Error("api: audit export broken off", "err", err)
				download.Abort()
			}
			return h.internal(c, err)
		}
		return dw.Flush()
	}
	before, bad := idParam(c, "before", false)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	limit, bad := limitParam(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	es, err := h.st.AuditEntries(c.Request().Context(), f, before, limit+1)
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]auditJSON, len(es))
	for i, e := range es {
		out[i] = auditJSON{ID: e.ID, At: e.At, ActorType: e.ActorType, Actor: e.Actor, Action: e.Action, Target: e.Target,
			BrandID: e.BrandID, Before: orNull(e.Before), After: orNull(e.After), Detail: orNull(e.Detail), Status: e.Status,
			IP: e.IP, RequestID: e.RequestID}
	}
	return page(c, out, limit, "before", func(x auditJSON) int64 { return x.ID })
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// audited records a write route's successful requests with the key's
// name: the action is the route, the target its last parameter, the brand
// the key's when it has one.
func (h *Handlers) audited(r route) echo.MiddlewareFunc {
	action, path := audit.APIActionOf(r.method, prefix+r.path), prefix+r.path
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			status := web.StatusOf(c, err)
			// A refused or failed write changed nothing; a replay of an
			// idempotent one was recorded the first time.
			if status >= 400 || c.Response().Header().Get(replayedHeader) != "" {
				return err
			}
			k := apiKey(c)
			var brand int64
			if !k.AllBrands && len(k.BrandIDs) == 1 {
				brand = k.BrandIDs[0]
			}
			detail := map[string]any{"method": r.method, "path": c.Request().URL.Path}
			h.audit.Record(c.Request().Context(), audit.Entry{ActorType: audit.APIKey, Actor: k.Name, ActorID: k.ID, Action: action,
				Target: audit.TargetOf(path, c.Param), BrandID: brand, Detail: detail, Status: status, IP: c.RealIP(),
				RequestID: c.Request().Header.Get(web.RequestIDHeader)})
			return err
		}
	}
}
