package console

import (
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"
)

// importErrorsDownload: GET /contacts/import/{id}/errors.csv — every row
// the import skipped, with its line and reason, as CSV (streamed a page at
// a time).
func (h *Handlers) importErrorsDownload(c echo.Context) error {
	m, err := h.pathImport(c)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-errors.csv"`, m.ID))
	w.WriteHeader(200)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"line", "reason"})
	after := int64(0)
	for {
		errs, err := h.Store.ImportErrors(c.Request().Context(), m.ID, after, 1000)
		if err != nil {
			h.Log.Error("import error report", "import_id", m.ID, "err", err)
			return nil // the answer has begun: it ends short
		}
		for _, e := range errs {
			_ = cw.Write([]string{strconv.FormatInt(e.Line, 10), e.Reason})
		}
		cw.Flush()
		w.Flush()
		if len(errs) < 1000 {
			return cw.Error()
		}
		after = errs[len(errs)-1].Line
	}
}
