package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminAPIKeyCreate: POST /admin/api-keys — a new key, shown on the answer
// page this once (only its hash is kept).
func (h *Handlers) adminAPIKeyCreate(c echo.Context) error {
	key, k, err := admin.CreateAPIKey(c.Request().Context(), h.Store, apiKeyForm(c))
	if err != nil {
		return h.adminFail(c, "admin_api_keys", h.adminAPIKeysData, err)
	}
	data, err := h.adminAPIKeysData(c)
	if err != nil {
		return err
	}
	data["Created"] = map[string]string{"Name": k.Name, "Key": key}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.render(c, http.StatusOK, "admin_api_keys", data)
}
