package console

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/hooks"
)

// adminWebhooksShow: GET /admin/webhooks — brands' webhook subscriptions,
// the form to add one, and with ?log=<id> that subscription's delivery log.
func (h *Handlers) adminWebhooksShow(c echo.Context) error {
	return h.showPage(c, "admin_webhooks", h.adminWebhooksData)
}

// webhookService is the process's webhook service, or (in a console built
// without one) one whose deliveries the worker's sweep queues.
func (h *Handlers) webhookService() *hooks.Service {
	if h.Webhooks != nil {
		return h.Webhooks
	}
	return hooks.New(h.Store, nil, "", h.Log)
}

func (h *Handlers) adminWebhooksData(c echo.Context) (map[string]any, error) {
	ctx := c.Request().Context()
	ws, err := h.Store.Webhooks(ctx, nil, 0, 500)
	if err != nil {
		return nil, err
	}
	brands, err := h.Store.Brands(ctx)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"Webhooks": ws, "Brands": brands, "Events": hooks.Types}
	if id, err := strconv.ParseInt(c.QueryParam("log"), 10, 64); err == nil && id > 0 {
		for _, w := range ws {
			if w.ID != id {
				continue
			}
			ds, err := h.Store.Deliveries(ctx, id, 0, 100)
			if err != nil {
				return nil, err
			}
			data["Log"], data["LogOf"] = ds, w
		}
	}
	return data, nil
}
