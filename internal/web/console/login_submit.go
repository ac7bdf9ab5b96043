package console

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
)

// loginSubmit: POST /login — check the form's CSRF token against its cookie,
// then the credentials; on success a brand-new session cookie and a redirect.
// A failure says only that the email or the password is wrong.
func (h *Handlers) loginSubmit(c echo.Context) error {
	ck, _ := h.cookie(c, loginCSRF)
	submitted := c.FormValue("csrf_token")
	if ck == nil || submitted == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(submitted)) != 1 {
		return c.String(http.StatusForbidden, "missing or wrong CSRF token: reload the sign-in page\n")
	}
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	token, ss, err := h.Auth.Login(c.Request().Context(), email, c.FormValue("password"), c.RealIP())
	if err != nil {
		status, msg, reason := http.StatusUnauthorized, auth.ErrBadCredentials.Error(), "bad_credentials"
		var te *auth.ThrottledError
		switch {
		case errors.As(err, &te):
			setRetryAfter(c, te.RetryAfter)
			status, msg, reason = http.StatusTooManyRequests, te.Error(), "throttled"
		case !errors.Is(err, auth.ErrBadCredentials):
			h.Log.Error("console: sign-in failed", "err", err)
			status, msg, reason = http.StatusInternalServerError, "sign-in is not possible right now", "unavailable"
		}
		h.auditSignIn(c, "login_failed", email, 0, status, map[string]any{"email": email, "reason": reason})
		return h.render(c, status, "login", map[string]any{"CSRF": ck.Value, "Next": next, "Email": email, "Error": msg})
	}
	h.auditSignIn(c, "login", ss.User.Email, ss.User.ID, http.StatusSeeOther, nil)
	// A session this browser held before (another account's, or one set
	// by someone else) ends here: nothing from before the sign-in lives on.
	if old, _ := h.cookie(c, sessionCookie); old != nil && old.Value != "" {
		if err := h.Auth.Logout(c.Request().Context(), old.Value); err != nil {
			h.Log.Warn("console: ending the session held before sign-in", "err", err)
		}
	}
	h.setCookie(c, sessionCookie, token, int(auth.AbsoluteTimeout.Seconds()))
	h.setCookie(c, loginCSRF, "", -1)
	if next == "/" && !auth.Can(ss.User.Role, auth.Inbox) && auth.Can(ss.User.Role, auth.Marketing) {
		next = "/campaigns" // a marketer's first page
	}
	return c.Redirect(http.StatusSeeOther, next)
}
