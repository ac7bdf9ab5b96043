package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminNumberRemove: POST /admin/brands/:slug/numbers/delete — the brand stops
// using a number (field number).
func (h *Handlers) adminNumberRemove(c echo.Context) error {
	_, err := admin.RemoveNumber(c.Request().Context(), h.Store, c.Param("slug"), c.FormValue("number"))
	if err != nil {
		return h.adminFail(c, "admin_brands", h.adminBrandsData, err)
	}
	return adminDone(c, "/admin/brands", "number_removed")
}
