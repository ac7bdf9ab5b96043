package console

import (
	"github.com/labstack/echo/v4"
)

// adminBrandsShow: GET /admin/brands — brands with their numbers, time zone,
// help text and response target, and the forms that change them.
func (h *Handlers) adminBrandsShow(c echo.Context) error {
	return h.showPage(c, "admin_brands", h.adminBrandsData)
}

func (h *Handlers) adminBrandsData(c echo.Context) (map[string]any, error) {
	brands, err := h.Store.Brands(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"Brands": brands}, nil
}
