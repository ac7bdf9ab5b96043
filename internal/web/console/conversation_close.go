package console

import (
	"github.com/labstack/echo/v4"
)

// conversationClose: POST /conversations/:id/close — the conversation is done; the customer's next text reopens it.
func (h *Handlers) conversationClose(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ss := session(c)
	if err := h.Conversations.Close(c.Request().Context(), ss.User, id); err != nil {
		return h.actionError(c, id, err)
	}
	return h.actionDone(c, id, "closed")
}
