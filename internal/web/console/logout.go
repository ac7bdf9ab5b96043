package console

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// logout: POST /logout — end the session and forget the cookie.
func (h *Handlers) logout(c echo.Context) error {
	token, _ := c.Get(ctxToken).(string)
	if err := h.Auth.Logout(c.Request().Context(), token); err != nil {
		return err
	}
	h.setCookie(c, sessionCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, "/login")
}
