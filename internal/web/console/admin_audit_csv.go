package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/web/download"
)

// adminAuditCSV: GET /admin/audit.csv — the audit log under the page's
// filter as CSV, newest first, streamed.
func (h *Handlers) adminAuditCSV(c echo.Context) error {
	f, err := h.auditFilter(c)
	var fe *audit.FieldError
	if errors.As(err, &fe) {
		return c.String(http.StatusBadRequest, fe.Error()+"\n")
	}
	if err != nil {
		return err
	}
	start := time.Now()
	dw := download.New(c.Response(), csvType, download.Filename("audit", "log", start))
	n, err := audit.Export(c.Request().Context(), h.Store, f, dw, dw.Flush)
	if err != nil {
		if dw.Started() {
			h.Log.Error("console: audit export broken off", "rows", n, "err", err)
			download.Abort()
		}
		return err
	}
	return dw.Flush()
}
