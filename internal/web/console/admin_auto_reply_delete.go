package console

import (
	"github.com/labstack/echo/v4"
)

// adminAutoReplyDelete: POST /admin/routing/:slug/rules/:id/delete — the
// rule answers nothing any more.
func (h *Handlers) adminAutoReplyDelete(c echo.Context) error {
	b, id, err := h.pathBrandRule(c)
	if err != nil {
		return err
	}
	if err := h.Automation.DeleteRule(c.Request().Context(), b.ID, id); err != nil {
		return h.adminFail(c, "admin_routing", h.adminRoutingData, err)
	}
	return adminDone(c, "/admin/routing?brand="+b.Slug, "rule_deleted")
}
