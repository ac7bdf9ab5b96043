package console

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/store"
)

// triggersShow: GET /triggers — the rules of the user's brands, newest
// first (keyset pages: ?before=), and the form for a new one.
func (h *Handlers) triggersShow(c echo.Context) error {
	return h.showPage(c, "triggers", h.triggersData)
}

func (h *Handlers) triggersData(c echo.Context) (map[string]any, error) {
	ctx := c.Request().Context()
	brands, err := h.Conversations.Brands(ctx, session(c).User)
	if err != nil {
		return nil, err
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	const pageSize = 50
	ts, err := h.Store.Triggers(ctx, brands, before, pageSize+1)
	if err != nil {
		return nil, err
	}
	ts, next := olderPage(ts, pageSize, "/triggers", func(t store.Trigger) int64 { return t.ID })
	views := make([]triggerView, len(ts))
	for i, t := range ts {
		views[i] = viewTrigger(t)
	}
	visible, err := h.Conversations.VisibleBrands(ctx, session(c).User)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Triggers": views, "Next": next, "Brands": visible}, nil
}
