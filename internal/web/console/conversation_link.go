package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// conversationLink: POST /conversations/:id/link — the customer is loyalty
// member loyalty_id. Merging with an existing member first shows what would
// be merged and asks for confirmation (confirm=1); nothing changes before.
func (h *Handlers) conversationLink(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ss := session(c)
	live, preview, err := h.Conversations.LinkLoyalty(c.Request().Context(), ss.User, id, c.FormValue("loyalty_id"), c.FormValue("confirm") == "1")
	if err != nil {
		return h.actionError(c, id, err)
	}
	if preview != nil {
		if wantsFetch(c) {
			return c.JSON(http.StatusConflict, map[string]any{"confirm": preview})
		}
		return h.render(c, http.StatusOK, "confirm_link", map[string]any{"ID": id, "P": preview})
	}
	if wantsFetch(c) {
		return c.JSON(http.StatusOK, map[string]int64{"conversation_id": live})
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+strconv.FormatInt(live, 10)+"?flash=linked")
}
