package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
)

// importRoutes lists the contacts-import pages (marketers and admins): the
// upload form, an import's live progress, and its error report.
func (h *Handlers) importRoutes() []Route {
	return []Route{
		{http.MethodGet, "/contacts/import", auth.Marketing, h.importsShow},
		{http.MethodPost, "/contacts/import", auth.Marketing, h.importUpload},
		{http.MethodGet, "/contacts/import/:id", auth.Marketing, h.importShow},
		{http.MethodGet, "/contacts/import/:id/errors.csv", auth.Marketing, h.importErrorsDownload},
	}
}

// pathImport resolves :id to an import of a brand the user may see: 404
// for an unknown one, 403 for another brand's.
func (h *Handlers) pathImport(c echo.Context) (store.ContactImport, error) {
	id, ok := pathID(c)
	if !ok {
		return store.ContactImport{}, echo.ErrNotFound
	}
	m, err := h.Store.ImportByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return m, echo.ErrNotFound
	}
	if err != nil {
		return m, err
	}
	if ok, err := h.mayUse(c, m.BrandID); err != nil || !ok {
		if err == nil {
			err = echo.NewHTTPError(http.StatusForbidden, "you do not have access to that brand")
		}
		return m, err
	}
	return m, nil
}
