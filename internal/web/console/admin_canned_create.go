package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminCannedCreate: POST /admin/canned — title, body (a template over the
// contact: {{.FirstName}}) and brand ("" for every brand).
func (h *Handlers) adminCannedCreate(c echo.Context) error {
	_, err := admin.CreateCanned(c.Request().Context(), h.Store, admin.CannedForm{
		Title: c.FormValue("title"), Body: c.FormValue("body"), Brand: c.FormValue("brand"), CreatedBy: session(c).User.ID,
	})
	if err != nil {
		return h.adminFail(c, "admin_canned", h.adminCannedData, err)
	}
	return adminDone(c, "/admin/canned", "canned_saved")
}
