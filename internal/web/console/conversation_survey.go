package console

import (
	"github.com/labstack/echo/v4"
)

// conversationSurvey: POST /conversations/:id/survey — send the brand's
// after-conversation survey now (409 when the brand has none or the
// customer opted out).
func (h *Handlers) conversationSurvey(c echo.Context) error {
	id, ok := conversationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	if _, err := h.Conversations.SendSurvey(c.Request().Context(), session(c).User, id); err != nil {
		return h.actionError(c, id, err)
	}
	return h.actionDone(c, id, "survey_sent")
}
