package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/segment"
)

// originLabels says who sent an outbound text, for the history.
var originLabels = map[string]string{
	"agent": "agent", "auto_reply": "auto-reply", "compliance": "automatic compliance reply",
	"api": "API", "campaign": "campaign", "trigger": "trigger", "customer": "customer",
	"question": "answer follow-up", "csat": "satisfaction survey", "campaign_test": "campaign test",
}

// conversationShow: GET /conversations/:id — the history (texts, notes and
// what people did), the reply box, and the customer beside it. Opening it
// marks it read for this user. A merged conversation redirects to the one
// that absorbed it.
func (h *Handlers) conversationShow(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	ss := session(c)
	v, err := h.Conversations.View(ctx, ss.User, id)
	switch {
	case errors.Is(err, conversation.ErrMerged):
		live, lerr := h.Conversations.Survivor(ctx, ss.User, id)
		if lerr != nil {
			return h.actionError(c, id, lerr)
		}
		return c.Redirect(http.StatusSeeOther, "/conversations/"+strconv.FormatInt(live, 10))
	case errors.Is(err, conversation.ErrForbidden):
		return h.render(c, http.StatusForbidden, "error", map[string]any{"Message": err.Error(), "Back": "/"})
	case errors.Is(err, conversation.ErrNotFound):
		return h.render(c, http.StatusNotFound, "error", map[string]any{"Message": err.Error(), "Back": "/"})
	case err != nil:
		return err
	}
	return h.render(c, http.StatusOK, "conversation", map[string]any{
		"Live": "conversation", "V": v, "Row": newInboxRow(v.Row, v.LocalTime, h.targets(c.Request().Context())), "Origins": originLabels,
		"Me": ss.User.ID, "GSM": segment.GSMBasic, "GSMExt": segment.GSMExtended,
	})
}
