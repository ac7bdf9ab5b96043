package console

import (
	"github.com/labstack/echo/v4"
)

// triggerDelete: POST /triggers/:id/delete — the rule matches nothing from
// now on; its scheduled texts are skipped when due.
func (h *Handlers) triggerDelete(c echo.Context) error {
	t, err := h.pathTrigger(c)
	if err != nil {
		return err
	}
	if err := h.Triggers.Delete(c.Request().Context(), t.ID); err != nil {
		return err
	}
	h.Log.Info("console: trigger deleted", "user", session(c).User.ID, "trigger", t.ID)
	return adminDone(c, "/triggers", "trigger_deleted")
}
