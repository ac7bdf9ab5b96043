package console

import (
	"net/http"

	"github.com/parleyhq/parley/internal/auth"
)

// inboxRoutes lists the inbox, the conversation view and its actions, and
// the live event stream.
func (h *Handlers) inboxRoutes() []Route {
	return []Route{
		{http.MethodGet, "/", auth.Inbox, h.inbox},
	}
}
