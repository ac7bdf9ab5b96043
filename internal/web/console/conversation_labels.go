package console

import (
	"github.com/labstack/echo/v4"
)

// conversationLabels: POST /conversations/:id/labels — replace the labels with a comma-separated list.
func (h *Handlers) conversationLabels(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ss := session(c)
	if err := h.Conversations.SetLabels(c.Request().Context(), ss.User, id, c.FormValue("labels")); err != nil {
		return h.actionError(c, id, err)
	}
	return h.actionDone(c, id, "labels_saved")
}
