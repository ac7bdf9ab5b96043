package console

import (
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/conversation"

	"github.com/labstack/echo/v4"
)

// conversationAssign: POST /conversations/:id/assign — give the conversation to an agent (assignee_id), or to nobody (empty).
func (h *Handlers) conversationAssign(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ss := session(c)
	var assignee int64
	if raw := strings.TrimSpace(c.FormValue("assignee_id")); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return h.actionError(c, id, &conversation.FieldError{Field: "assignee_id", Msg: "not a user id"})
		}
		assignee = n
	}
	if err := h.Conversations.Assign(c.Request().Context(), ss.User, id, assignee); err != nil {
		return h.actionError(c, id, err)
	}
	return h.actionDone(c, id, "assigned")
}
