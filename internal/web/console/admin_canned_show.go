package console

import (
	"github.com/labstack/echo/v4"
)

// adminCannedShow: GET /admin/canned — canned responses and the form to add
// one.
func (h *Handlers) adminCannedShow(c echo.Context) error {
	return h.showPage(c, "admin_canned", h.adminCannedData)
}

func (h *Handlers) adminCannedData(c echo.Context) (map[string]any, error) {
	all, err := h.Store.AllCannedResponses(c.Request().Context())
	if err != nil {
		return nil, err
	}
	brands, err := h.Store.Brands(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"Canned": all, "Brands": brands}, nil
}
