package console

import (
	"github.com/labstack/echo/v4"
)

// adminAutoReplyUpdate: POST /admin/routing/:slug/rules/:id — the rule's
// new position, match, pattern, reply and hand-to-agent choice.
func (h *Handlers) adminAutoReplyUpdate(c echo.Context) error {
	b, id, err := h.pathBrandRule(c)
	if err != nil {
		return err
	}
	r, err := ruleForm(c)
	if err == nil {
		_, err = h.Automation.UpdateRule(c.Request().Context(), b.ID, id, r)
	}
	if err != nil {
		return h.adminFail(c, "admin_routing", h.adminRoutingData, err)
	}
	return adminDone(c, "/admin/routing?brand="+b.Slug, "rule_saved")
}
