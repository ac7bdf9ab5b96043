package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/routing"
	"github.com/parleyhq/parley/internal/store"
)

// adminRoutes lists the admin pages: users, brands and numbers, API keys,
// canned responses, routing (hours and auto-replies), merges made in the
// console, outbound webhooks.
func (h *Handlers) adminRoutes() []Route {
	return []Route{
		{http.MethodGet, "/admin/users", auth.Admin, h.adminUsersShow},
		{http.MethodPost, "/admin/users", auth.Admin, h.adminUserInvite},
		{http.MethodPost, "/admin/users/:id", auth.Admin, h.adminUserUpdate},
		{http.MethodGet, "/admin/brands", auth.Admin, h.adminBrandsShow},
		{http.MethodPost, "/admin/brands", auth.Admin, h.adminBrandCreate},
		{http.MethodPost, "/admin/brands/:slug", auth.Admin, h.adminBrandUpdate},
		{http.MethodPost, "/admin/brands/:slug/numbers", auth.Admin, h.adminNumberAdd},
		{http.MethodPost, "/admin/brands/:slug/numbers/delete", auth.Admin, h.adminNumberRemove},
		{http.MethodGet, "/admin/api-keys", auth.Admin, h.adminAPIKeysShow},
		{http.MethodPost, "/admin/api-keys", auth.Admin, h.adminAPIKeyCreate},
		{http.MethodPost, "/admin/api-keys/:id/revoke", auth.Admin, h.adminAPIKeyRevoke},
		{http.MethodGet, "/admin/canned", auth.Admin, h.adminCannedShow},
		{http.MethodPost, "/admin/canned", auth.Admin, h.adminCannedCreate},
		{http.MethodPost, "/admin/canned/:id/delete", auth.Admin, h.adminCannedDelete},
		{http.MethodGet, "/admin/routing", auth.Admin, h.adminRoutingShow},
		{http.MethodPost, "/admin/routing/:slug/settings", auth.Admin, h.adminRoutingUpdate},
		{http.MethodPost, "/admin/routing/:slug/rules", auth.Admin, h.adminAutoReplyCreate},
		{http.MethodPost, "/admin/routing/:slug/rules/:id", auth.Admin, h.adminAutoReplyUpdate},
		{http.MethodPost, "/admin/routing/:slug/rules/:id/delete", auth.Admin, h.adminAutoReplyDelete},
		{http.MethodGet, "/admin/merges", auth.Admin, h.adminMergesShow},
		{http.MethodPost, "/admin/merges/:id/undo", auth.Admin, h.adminMergeUndo},
		{http.MethodGet, "/admin/webhooks", auth.Admin, h.adminWebhooksShow},
		{http.MethodPost, "/admin/webhooks", auth.Admin, h.adminWebhookCreate},
		{http.MethodPost, "/admin/webhooks/:id/delete", auth.Admin, h.adminWebhookDelete},
		{http.MethodPost, "/admin/webhooks/:id/test", auth.Admin, h.adminWebhookTestSend},
	}
}

// pageData loads what an admin page shows, for its GET and for showing a
// form again with an error.
type pageData func(c echo.Context) (map[string]any, error)

// showPage renders an admin page with what load gives.
func (h *Handlers) showPage(c echo.Context, page string, load pageData) error {
	data, err := load(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, page, data)
}

// adminDone redirects after a successful admin action, with a message.
func adminDone(c echo.Context, to, flashCode string) error {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	return c.Redirect(http.StatusSeeOther, to+sep+"flash="+url.QueryEscape(flashCode))
}

// adminFail shows the page again with what was wrong: 400 for bad input, 409
// for a clash with something that exists, 404 for an unknown object; nothing
// was changed.
func (h *Handlers) adminFail(c echo.Context, page string, load pageData, err error) error {
	var status int
	var msg string
	var fe *admin.FieldError
	var rfe *routing.FieldError
	switch {
	case errors.As(err, &rfe):
		status, msg = http.StatusBadRequest, rfe.Error()
	case errors.Is(err, automation.ErrTooManyRules):
		status, msg = http.StatusConflict, err.Error()
	case errors.As(err, &fe) && errors.Is(err, admin.ErrConflict):
		status, msg = http.StatusConflict, fe.Error()
	case errors.As(err, &fe):
		status, msg = http.StatusBadRequest, fe.Error()
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "not found: it may have been removed meanwhile"
	default:
		return err
	}
	data, lerr := load(c)
	if lerr != nil {
		return lerr
	}
	data["Error"] = msg
	return h.render(c, status, page, data)
}

// pathBrandRule resolves :slug and :id of a brand's auto-reply page action;
// 404 for either unknown.
func (h *Handlers) pathBrandRule(c echo.Context) (store.Brand, int64, error) {
	b, err := h.Store.BrandBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return b, 0, echo.ErrNotFound
	}
	id, ok := pathID(c)
	if !ok {
		return b, 0, echo.ErrNotFound
	}
	return b, id, nil
}

func pathID(c echo.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

// olderPage cuts a newest-first list read with one row more than size to
// size, and gives the link to the next (older) page: path?before=<last
// id>, or "" when there is none.
func olderPage[T any](rows []T, size int, path string, id func(T) int64) ([]T, string) {
	if len(rows) <= size {
		return rows, ""
	}
	rows = rows[:size]
	return rows, path + "?before=" + strconv.FormatInt(id(rows[len(rows)-1]), 10)
}
