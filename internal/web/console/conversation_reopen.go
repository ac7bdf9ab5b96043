package console

import (
	"github.com/labstack/echo/v4"
)

// conversationReopen: POST /conversations/:id/reopen — back to the open list.
func (h *Handlers) conversationReopen(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ss := session(c)
	if err := h.Conversations.Reopen(c.Request().Context(), ss.User, id); err != nil {
		return h.actionError(c, id, err)
	}
	return h.actionDone(c, id, "reopened")
}
