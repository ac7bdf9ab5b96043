package console

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// loginShow: GET /login — the sign-in form, with a CSRF token bound to a
// short-lived cookie (there is no session yet to hold it). A token the
// browser already holds is kept: a second sign-in page (another tab, or a
// request the browser makes on its own such as /favicon.ico landing here)
// must not invalidate the form already on screen.
func (h *Handlers) loginShow(c echo.Context) error {
	csrf := ""
	if ck, err := h.cookie(c, loginCSRF); err == nil && len(ck.Value) == 32 {
		csrf = ck.Value
	} else {
		csrf = randomToken()
	}
	h.setCookie(c, loginCSRF, csrf, 3600)
	return h.render(c, http.StatusOK, "login", map[string]any{"CSRF": csrf, "Next": safeNext(c.QueryParam("next"))})
}
