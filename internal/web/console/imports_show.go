package console

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/store"
)

// importsShow: GET /contacts/import — the upload form and the imports of
// the user's brands, newest first (keyset pages: ?before=).
func (h *Handlers) importsShow(c echo.Context) error {
	return h.showPage(c, "imports", h.importsData)
}

func (h *Handlers) importsData(c echo.Context) (map[string]any, error) {
	ctx := c.Request().Context()
	brands, err := h.Conversations.Brands(ctx, session(c).User)
	if err != nil {
		return nil, err
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	const pageSize = 50
	ims, err := h.Store.Imports(ctx, brands, before, pageSize+1)
	if err != nil {
		return nil, err
	}
	ims, next := olderPage(ims, pageSize, "/contacts/import", func(m store.ContactImport) int64 { return m.ID })
	visible, err := h.Conversations.VisibleBrands(ctx, session(c).User)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Imports": ims, "Next": next, "Brands": visible, "MaxMB": maxUploadBytes >> 20}, nil
}
