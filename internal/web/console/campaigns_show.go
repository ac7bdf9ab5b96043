package console

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/store"
)

// campaignsShow: GET /campaigns — the campaigns of the user's brands,
// newest first (keyset pages: ?before=), and the form for a new one.
func (h *Handlers) campaignsShow(c echo.Context) error {
	return h.showPage(c, "campaigns", h.campaignsData)
}

func (h *Handlers) campaignsData(c echo.Context) (map[string]any, error) {
	ctx := c.Request().Context()
	brands, err := h.Conversations.Brands(ctx, session(c).User)
	if err != nil {
		return nil, err
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	const pageSize = 50
	cs, err := h.Store.Campaigns(ctx, brands, before, pageSize+1)
	if err != nil {
		return nil, err
	}
	cs, next := olderPage(cs, pageSize, "/campaigns", func(c store.Campaign) int64 { return c.ID })
	visible, err := h.Conversations.VisibleBrands(ctx, session(c).User)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Campaigns": cs, "Next": next, "Brands": visible}, nil
}
