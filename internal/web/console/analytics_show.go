package console

import (
	"html/template"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/auth"
)

// analyticsShow: GET /analytics?brand=&from=&to=&granularity= — the
// brand's dashboard: texts in and out, first responses, delivery,
// opt-ins and opt-outs as SVG charts drawn here (no script), each with its
// numbers in a table on demand and as CSV, and the top and rising topics
// with example texts. A day's point leads to that day's conversations.
func (h *Handlers) analyticsShow(c echo.Context) error {
	return h.showPage(c, "analytics", func(c echo.Context) (map[string]any, error) {
		q, err := h.analyticsParams(c)
		if err != nil {
			return nil, err
		}
		ctx := c.Request().Context()
		type shown struct {
			report
			Chart template.HTML
			CSV   string
		}
		// Topics read and count the most rows: they run beside the others.
		var topics report
		var lists []topicList
		var terr error
		done := make(chan struct{})
		go func() { defer close(done); topics, lists, terr = h.topicsReport(ctx, q) }()
		defer func() { <-done }()
		var reports []shown
		for _, name := range reportNames[:len(reportNames)-1] {
			r, err := h.buildReport(ctx, q, name)
			if err != nil {
				return nil, err
			}
			// The chart package escapes every text it writes.
			reports = append(reports, shown{report: r, Chart: template.HTML(r.chart), CSV: "/analytics.csv?" + q.query("report", name)}) //nolint:gosec // SVG built by internal/chart, all text escaped
		}
		<-done
		if terr != nil {
			return nil, terr
		}
		return map[string]any{
			"Brands": q.brands, "Brand": q.brand, "From": q.from, "To": q.to, "Granularity": string(q.g),
			"Reports": reports, "Topics": topics, "TopicLists": lists, "TopicsCSV": "/analytics.csv?" + q.query("report", "topics"),
			"Conversations": "/analytics/conversations?" + q.query(), "LinkExamples": auth.Can(session(c).User.Role, auth.Inbox),
			"MaxExamples": analytics.MaxExamples,
		}, nil
	})
}
