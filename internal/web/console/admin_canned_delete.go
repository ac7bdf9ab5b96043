package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminCannedDelete: POST /admin/canned/:id/delete — agents no longer see it.
func (h *Handlers) adminCannedDelete(c echo.Context) error {
	id, ok := pathID(c)
	if !ok {
		return echo.ErrNotFound
	}
	if err := admin.DeleteCanned(c.Request().Context(), h.Store, id); err != nil {
		return h.adminFail(c, "admin_canned", h.adminCannedData, err)
	}
	return adminDone(c, "/admin/canned", "canned_deleted")
}
