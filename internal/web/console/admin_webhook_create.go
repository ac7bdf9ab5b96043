package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/store"
)

// adminWebhookCreate: POST /admin/webhooks — brand, url (https; http only
// to this machine) and the events ticked. The page comes back showing the
// new subscription's signing secret, this once.
func (h *Handlers) adminWebhookCreate(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return echo.ErrBadRequest
	}
	b, err := h.Store.BrandBySlug(ctx, strings.TrimSpace(c.FormValue("brand")))
	if errors.Is(err, store.ErrNotFound) {
		return h.adminFail(c, "admin_webhooks", h.adminWebhooksData, &admin.FieldError{Field: "brand", Msg: "choose a brand"})
	}
	if err != nil {
		return err
	}
	w, err := h.webhookService().Create(ctx, b.ID, c.FormValue("url"), form["events"])
	var fe *hooks.FieldError
	if errors.As(err, &fe) {
		return h.adminFail(c, "admin_webhooks", h.adminWebhooksData, &admin.FieldError{Field: fe.Field, Msg: fe.Msg})
	}
	if err != nil {
		return err
	}
	data, err := h.adminWebhooksData(c)
	if err != nil {
		return err
	}
	data["Created"] = w
	return h.render(c, http.StatusOK, "admin_webhooks", data)
}
