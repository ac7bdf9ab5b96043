package console

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/web/download"
)

// consentExportCSV: GET /consent/export.csv?brand=SLUG — the brand's whole
// consent ledger as CSV, oldest first, streamed; each download is logged
// with the user.
func (h *Handlers) consentExportCSV(c echo.Context) error {
	b, ok, err := h.exportBrand(c, "consent")
	if !ok {
		return err
	}
	start := time.Now()
	dw := download.New(c.Response(), csvType, download.Filename("consent", b.Slug, start))
	n, err := consent.NewLedger(h.Store).Export(c.Request().Context(), b.ID, dw, dw.Flush)
	return h.exportDone(c, dw, "consent", b, n, start, err)
}
