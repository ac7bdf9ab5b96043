package console

import (
	"github.com/labstack/echo/v4"
)

// conversationNote: POST /conversations/:id/notes — an internal note, never sent.
func (h *Handlers) conversationNote(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ss := session(c)
	if _, err := h.Conversations.AddNote(c.Request().Context(), ss.User, id, c.FormValue("body")); err != nil {
		return h.actionError(c, id, err)
	}
	return h.actionDone(c, id, "note_added")
}
