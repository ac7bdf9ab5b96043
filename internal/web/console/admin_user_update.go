package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminUserUpdate: POST /admin/users/:id — role, name, all_brands or the
// brands ticked (none: no brand), capacity (open conversations assigned
// automatically at most) and disabled; disabling signs the user out everywhere.
func (h *Handlers) adminUserUpdate(c echo.Context) error {
	id, ok := pathID(c)
	if !ok {
		return echo.ErrNotFound
	}
	form, _ := c.FormParams()
	_, err := admin.UpdateUser(c.Request().Context(), h.Store, session(c).User.ID, admin.UserUpdate{
		ID: id, Name: c.FormValue("name"), Role: c.FormValue("role"), AllBrands: c.FormValue("all_brands") != "", Brands: form["brand"],
		Disabled: c.FormValue("disabled") == "1", Capacity: c.FormValue("capacity"),
	})
	if err != nil {
		return h.adminFail(c, "admin_users", h.adminUsersData, err)
	}
	return adminDone(c, "/admin/users", "user_saved")
}
