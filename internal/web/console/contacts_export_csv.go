package console

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/web/download"
)

// contactsExportCSV: GET /contacts/export.csv?brand=SLUG — the brand's
// contacts as CSV, streamed (contact.Service.Export says what is in it);
// each download is logged with the user.
func (h *Handlers) contactsExportCSV(c echo.Context) error {
	b, ok, err := h.exportBrand(c, "contacts")
	if !ok {
		return err
	}
	start := time.Now()
	dw := download.New(c.Response(), csvType, download.Filename("contacts", b.Slug, start))
	res, err := contact.NewService(h.Store).Export(c.Request().Context(), b, dw, dw.Flush)
	if len(res.SkippedKeys) > 0 {
		h.Log.Warn("contacts export: attributes left out, their names clash with the file's columns", "brand", b.Slug, "keys", res.SkippedKeys)
	}
	return h.exportDone(c, dw, "contacts", b, res.Rows, start, err)
}
