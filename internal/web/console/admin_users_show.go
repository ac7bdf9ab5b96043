package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminUsersShow: GET /admin/users — every user with role, brands, presence
// and state, and the invite form.
func (h *Handlers) adminUsersShow(c echo.Context) error {
	return h.showPage(c, "admin_users", h.adminUsersData)
}

func (h *Handlers) adminUsersData(c echo.Context) (map[string]any, error) {
	users, err := h.Store.Users(c.Request().Context())
	if err != nil {
		return nil, err
	}
	brands, err := h.Store.Brands(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"Users": users, "Brands": brands, "Roles": admin.Roles, "Me": session(c).User.ID}, nil
}
