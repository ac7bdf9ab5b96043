package console

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// importShowErrors is how many skipped rows the import page lists (the
// report has them all).
const importShowErrors = 100

// importShow: GET /contacts/import/{id} — an import's progress (a bar of
// the file read, the rows imported and skipped), the first skipped rows,
// and the link to the whole error report; the progress refreshes itself
// while the import runs.
func (h *Handlers) importShow(c echo.Context) error {
	m, err := h.pathImport(c)
	if err != nil {
		return err
	}
	errs, err := h.Store.ImportErrors(c.Request().Context(), m.ID, 0, importShowErrors)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "import", map[string]any{"Import": m, "Errors": errs, "Running": m.Status == "running",
		"Live": "import", "Percent": percent(m.BytesRead, m.SizeBytes)})
}

// percent is part of whole as a whole percentage (0 when whole is unknown).
func percent(part, whole int64) int64 {
	if whole <= 0 {
		return 0
	}
	return min(100, part*100/whole)
}
