package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/hooks"
)

// adminWebhookTestSend: POST /admin/webhooks/:id/test — queues a
// webhook.test event to this subscription and shows its delivery log,
// where the outcome appears.
func (h *Handlers) adminWebhookTestSend(c echo.Context) error {
	id, ok := pathID(c)
	if !ok {
		return echo.ErrNotFound
	}
	svc := h.webhookService()
	w, err := svc.Get(c.Request().Context(), id)
	if errors.Is(err, hooks.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if _, err := svc.SendTest(c.Request().Context(), w); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks?log="+strconv.FormatInt(id, 10))
}
