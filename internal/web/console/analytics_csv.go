package console

import (
	"encoding/csv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/sheet"
	"github.com/parleyhq/parley/internal/web/download"
)

// analyticsCSV: GET /analytics.csv?report=volume|response-times|delivery|consent|relationship|topics&brand=&from=&to=&granularity=
// — the rows of one of the dashboard's tables as CSV, for a signed-in
// marketer (the API's CSV needs a key).
func (h *Handlers) analyticsCSV(c echo.Context) error {
	q, err := h.analyticsParams(c)
	if err != nil {
		return err
	}
	name := c.QueryParam("report")
	r, err := h.buildReport(c.Request().Context(), q, name)
	if err != nil {
		return err
	}
	dw := download.New(c.Response(), csvType, download.Filename("analytics-"+name, q.brand.Slug, time.Now()))
	cw := csv.NewWriter(dw)
	_ = cw.Write(r.Cols)
	for _, row := range r.Rows {
		_ = cw.Write(sheet.Safe(append([]string(nil), row...)))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.Log.Warn("console: analytics csv cut short", "report", name, "err", err)
	}
	return dw.Flush()
}
