package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminUserInvite: POST /admin/users — create a user with a random password,
// shown on the answer page once (no email is sent).
func (h *Handlers) adminUserInvite(c echo.Context) error {
	form, _ := c.FormParams()
	u, password, err := admin.InviteUser(c.Request().Context(), h.Store, admin.Invite{
		Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role"), AllBrands: c.FormValue("all_brands") != "", Brands: form["brand"],
	})
	if err != nil {
		return h.adminFail(c, "admin_users", h.adminUsersData, err)
	}
	data, err := h.adminUsersData(c)
	if err != nil {
		return err
	}
	data["Invited"] = map[string]string{"Email": u.Email, "Password": password}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.render(c, http.StatusOK, "admin_users", data)
}
