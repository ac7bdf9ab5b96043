package console

import (
	"net/http"

	"github.com/parleyhq/parley/internal/auth"
)

// accountRoutes lists what every signed-in user may do to their own account:
// password and presence.
func (h *Handlers) accountRoutes() []Route {
	return []Route{
		{http.MethodGet, "/account", auth.Account, h.accountShow},
		{http.MethodPost, "/account/password", auth.Account, h.accountPassword},
		{http.MethodPost, "/account/presence", auth.Account, h.accountPresence},
	}
}
