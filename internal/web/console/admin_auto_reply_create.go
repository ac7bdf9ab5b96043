package console

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/routing"
)

// adminAutoReplyCreate: POST /admin/routing/:slug/rules — a new keyword
// auto-reply, tried after the others unless a position is given.
func (h *Handlers) adminAutoReplyCreate(c echo.Context) error {
	b, err := h.Store.BrandBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return echo.ErrNotFound
	}
	r, err := ruleForm(c)
	if err == nil {
		_, err = h.Automation.CreateRule(c.Request().Context(), b.ID, r)
	}
	if err != nil {
		return h.adminFail(c, "admin_routing", h.adminRoutingData, err)
	}
	return adminDone(c, "/admin/routing?brand="+b.Slug, "rule_saved")
}

// ruleForm reads a rule form: position (blank: last, or unchanged),
// match, pattern, reply, hand_to_agent.
func ruleForm(c echo.Context) (automation.Rule, error) {
	var pos int
	if v := strings.TrimSpace(c.FormValue("position")); v != "" {
		var err error
		if pos, err = strconv.Atoi(v); err != nil {
			return automation.Rule{}, &routing.FieldError{Field: "position", Msg: strconv.Quote(v) + " is not a whole number"}
		}
	}
	return automation.Rule{Position: pos, Match: c.FormValue("match"), Pattern: c.FormValue("pattern"),
		Reply: c.FormValue("reply"), HandToAgent: c.FormValue("hand_to_agent") == "1"}, nil
}
