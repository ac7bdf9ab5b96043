package console

import (
	"github.com/labstack/echo/v4"
)

// contactsExportShow: GET /contacts/export — for each brand the user may
// see, links to download its contacts and its consent ledger as CSV.
func (h *Handlers) contactsExportShow(c echo.Context) error {
	return h.showPage(c, "contacts_export", func(c echo.Context) (map[string]any, error) {
		brands, err := h.Conversations.VisibleBrands(c.Request().Context(), session(c).User)
		if err != nil {
			return nil, err
		}
		return map[string]any{"Brands": brands}, nil
	})
}
