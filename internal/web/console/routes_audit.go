package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
)

// auditRoutes are the audit log's pages, for admins.
func (h *Handlers) auditRoutes() []Route {
	return []Route{
		{http.MethodGet, "/admin/audit", auth.Admin, h.adminAuditShow},
		{http.MethodGet, "/admin/audit.csv", auth.Admin, h.adminAuditCSV},
	}
}

// auditFilter reads the page's filter (actor, action, since, until) and
// limits it to the brands the admin may see (an entry of no brand only
// with every brand).
func (h *Handlers) auditFilter(c echo.Context) (store.AuditFilter, error) {
	f, err := audit.Query{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Since: c.QueryParam("since"),
		Until: c.QueryParam("until")}.Filter()
	if err != nil {
		return f, err
	}
	brands, err := h.Conversations.Brands(c.Request().Context(), session(c).User)
	f.AllBrands, f.Brands = brands == nil, brands
	return f, err
}
