package console

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// loginShow: GET /login — the sign-in form, with a CSRF token bound to a
// short-lived cookie (there is no session yet to hold it).
func (h *Handlers) loginShow(c echo.Context) error {
	csrf := randomToken()
	h.setCookie(c, loginCSRF, csrf, 3600)
	return h.render(c, http.StatusOK, "login", map[string]any{"CSRF": csrf, "Next": safeNext(c.QueryParam("next"))})
}
