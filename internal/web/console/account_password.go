package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/auth"
)

// accountPassword: POST /account/password — current_password, new_password,
// confirm_password; the user's other sessions are signed out.
func (h *Handlers) accountPassword(c echo.Context) error {
	cur, next, confirm := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("confirm_password")
	err := admin.CheckPasswordChange(cur, next, confirm)
	if err == nil {
		token, _ := c.Get(ctxToken).(string) // this session stays signed in
		err = h.Auth.ChangePassword(c.Request().Context(), session(c), token, c.RealIP(), cur, next)
	}
	var fe *admin.FieldError
	var te *auth.ThrottledError
	msg := ""
	switch {
	case errors.As(err, &te):
		setRetryAfter(c, te.RetryAfter)
		return h.render(c, http.StatusTooManyRequests, "account", map[string]any{"Error": "current_password: " + te.Error()})
	case err == nil:
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
