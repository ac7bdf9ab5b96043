package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/trigger"
)

// triggerCreate: POST /triggers — a rule from the form; a condition or
// template that does not compile is shown with the field, and nothing is
// saved.
func (h *Handlers) triggerCreate(c echo.Context) error {
	fail := func(status int, msg string) error {
		data, err := h.triggersData(c)
		if err != nil {
			return err
		}
		data["Error"] = msg
		return h.render(c, status, "triggers", data)
	}
	b, status, msg, err := h.formBrand(c)
	if err != nil {
		return err
	}
	if status != 0 {
		return fail(status, msg)
	}
	spec, err := specFromForm(c)
	var fe *trigger.FieldError
	if errors.As(err, &fe) {
		return fail(http.StatusBadRequest, fe.Error())
	}
	t, err := h.Triggers.Save(c.Request().Context(), b, 0, spec)
	if errors.As(err, &fe) {
		return fail(http.StatusBadRequest, fe.Error())
	}
	if err != nil {
		return err
	}
	h.Log.Info("console: trigger saved", "user", session(c).User.ID, "trigger", t.ID, "brand", b.Slug)
	return adminDone(c, "/triggers/"+strconv.FormatInt(t.ID, 10), "trigger_saved")
}
