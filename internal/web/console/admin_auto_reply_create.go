package console

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/automation"
)

// adminAutoReplyCreate: POST /admin/routing/:slug/rules — a new keyword
// auto-reply, tried after the others unless a position is given.
func (h *Handlers) adminAutoReplyCreate(c echo.Context) error {
	b, err := h.Store.BrandBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return echo.ErrNotFound
	}
	if _, err := h.Automation.CreateRule(c.Request().Context(), b.ID, ruleForm(c)); err != nil {
		return h.adminFail(c, "admin_routing", h.adminRoutingData, err)
	}
	return adminDone(c, "/admin/routing?brand="+b.Slug, "rule_saved")
}

// ruleForm reads a rule form: position, match, pattern, reply, hand_to_agent.
func ruleForm(c echo.Context) automation.Rule {
	pos, _ := strconv.Atoi(c.FormValue("position"))
	return automation.Rule{Position: pos, Match: c.FormValue("match"), Pattern: c.FormValue("pattern"),
		Reply: c.FormValue("reply"), HandToAgent: c.FormValue("hand_to_agent") == "1"}
}
