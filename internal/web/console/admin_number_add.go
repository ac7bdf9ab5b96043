package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminNumberAdd: POST /admin/brands/:slug/numbers — add a sender number
// (E.164 or a short code) or change its messages per second.
func (h *Handlers) adminNumberAdd(c echo.Context) error {
	_, err := admin.AddNumber(c.Request().Context(), h.Store, c.Param("slug"), c.FormValue("number"), c.FormValue("mps"))
	if err != nil {
		return h.adminFail(c, "admin_brands", h.adminBrandsData, err)
	}
	return adminDone(c, "/admin/brands", "number_saved")
}
