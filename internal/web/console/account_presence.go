package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// accountPresence: POST /account/presence — online, away or offline. The
// header's menu sends it with fetch (204); a plain form returns to the page
// it came from.
func (h *Handlers) accountPresence(c echo.Context) error {
	err := admin.SetPresence(c.Request().Context(), h.Store, session(c).User.ID, c.FormValue("presence"))
	var fe *admin.FieldError
	if errors.As(err, &fe) {
		return c.String(http.StatusBadRequest, fe.Error()+"\n")
	}
	if err != nil {
		return err
	}
	if c.Request().Header.Get("Accept") == "application/json" {
		return c.NoContent(http.StatusNoContent)
	}
	back := "/"
	if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Path != "" && (ref.Host == "" || ref.Host == c.Request().Host) {
		back = safeNext(ref.RequestURI())
	}
	return c.Redirect(http.StatusSeeOther, back)
}
