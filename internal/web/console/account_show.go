package console

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// accountShow: GET /account — the user's own page: presence and password.
func (h *Handlers) accountShow(c echo.Context) error {
	return h.render(c, http.StatusOK, "account", map[string]any{})
}
