package console

import (
	"github.com/labstack/echo/v4"
)

// adminAPIKeysShow: GET /admin/api-keys — keys by name and prefix (never the
// key), when created, last used, revoked; the create form.
func (h *Handlers) adminAPIKeysShow(c echo.Context) error {
	return h.showPage(c, "admin_api_keys", h.adminAPIKeysData)
}

func (h *Handlers) adminAPIKeysData(c echo.Context) (map[string]any, error) {
	keys, err := h.Store.APIKeys(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"Keys": keys}, nil
}
