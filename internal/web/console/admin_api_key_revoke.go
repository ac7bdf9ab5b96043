package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminAPIKeyRevoke: POST /admin/api-keys/:id/revoke — the key stops working
// for good.
func (h *Handlers) adminAPIKeyRevoke(c echo.Context) error {
	id, ok := pathID(c)
	if !ok {
		return echo.ErrNotFound
	}
	_, err := admin.RevokeAPIKey(c.Request().Context(), h.Store, id)
	if err != nil {
		return h.adminFail(c, "admin_api_keys", h.adminAPIKeysData, err)
	}
	return adminDone(c, "/admin/api-keys", "key_revoked")
}
