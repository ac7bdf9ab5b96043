package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// conversationLink: POST /conversations/:id/link — the customer is loyalty member loyalty_id: link or merge their records.
func (h *Handlers) conversationLink(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ss := session(c)
	live, err := h.Conversations.LinkLoyalty(c.Request().Context(), ss.User, id, c.FormValue("loyalty_id"))
	if err != nil {
		return h.actionError(c, id, err)
	}
	if wantsFetch(c) {
		return c.JSON(http.StatusOK, map[string]int64{"conversation_id": live})
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+strconv.FormatInt(live, 10)+"?flash=linked")
}
