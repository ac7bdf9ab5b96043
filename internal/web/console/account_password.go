package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/auth"
)

// accountPassword: POST /account/password — current_password, new_password,
// confirm_password; every session of the user ends, and this browser goes on
// in a new one.
func (h *Handlers) accountPassword(c echo.Context) error {
	cur, next, confirm := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("confirm_password")
	err := admin.CheckPasswordChange(cur, next, confirm)
	fresh := ""
	if err == nil {
		fresh, err = h.Auth.ChangePassword(c.Request().Context(), session(c), c.RealIP(), cur, next)
	}
	var fe *admin.FieldError
	var te *auth.ThrottledError
	msg := ""
	switch {
	case errors.As(err, &te):
		setRetryAfter(c, te.RetryAfter)
		return h.render(c, http.StatusTooManyRequests, "account", map[string]any{"Error": "current_password: " + te.Error()})
	case err == nil:
		// This browser goes on in a new session; every other one is over.
		h.setCookie(c, sessionCookie, fresh, int(auth.AbsoluteTimeout.Seconds()))
		return adminDone(c, "/account", "password_changed")
	case errors.As(err, &fe):
		msg = fe.Error()
	case errors.Is(err, auth.ErrBadCredentials):
		msg = "current_password: not your current password"
	case errors.Is(err, auth.ErrWeakPassword):
		msg = "new_password: " + err.Error()
	default:
		return err
	}
	return h.render(c, http.StatusBadRequest, "account", map[string]any{"Error": msg})
}
