package console

import (
	"github.com/labstack/echo/v4"
)

// conversationReply: POST /conversations/:id/reply — queue the agent's text
// to the customer (refused, and saying why, when they opted out); with
// ask=rating|nps|yes_no|free_text the text asks a question.
func (h *Handlers) conversationReply(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ss := session(c)
	_, err := h.Conversations.ReplyAsking(c.Request().Context(), ss.User, id, c.FormValue("body"), c.FormValue("ask"))
	if err != nil {
		return h.actionError(c, id, err)
	}
	return h.actionDone(c, id, "reply_queued")
}
