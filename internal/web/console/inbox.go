package console

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/store"
)

type inboxRow struct {
	Phone          string
	Status         string
	NeedsAttention string
	LastMessageAt  time.Time
}

// inbox: GET / — the conversations, most recent activity first.
func (h *Handlers) inbox(c echo.Context) error {
	ss := session(c)
	convs, err := h.Store.Conversations(c.Request().Context(), store.ConversationQuery{Limit: 50})
	if err != nil {
		return err
	}
	rows := make([]inboxRow, len(convs))
	for i, cv := range convs {
		rows[i] = inboxRow{Phone: cv.LastPhone, Status: cv.Status, NeedsAttention: cv.NeedsAttention, LastMessageAt: cv.LastMessageAt}
	}
	return h.render(c, http.StatusOK, "inbox", map[string]any{"User": &ss.User, "CSRF": ss.CSRFToken, "Conversations": rows})
}
