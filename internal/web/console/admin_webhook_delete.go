package console

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/hooks"
)

// adminWebhookDelete: POST /admin/webhooks/:id/delete — nothing more is
// posted to it; its pending deliveries are cancelled, its log stays.
func (h *Handlers) adminWebhookDelete(c echo.Context) error {
	id, ok := pathID(c)
	if !ok {
		return echo.ErrNotFound
	}
	if err := h.webhookService().Delete(c.Request().Context(), id); errors.Is(err, hooks.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	return adminDone(c, "/admin/webhooks", "webhook_deleted")
}
