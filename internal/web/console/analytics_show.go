package console

import (
	"html/template"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/auth"
)

// analyticsShow: GET /analytics?brand=&from=&to=&granularity=&hours= — the
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
		q.share(ctx, h.reports())
		type shown struct {
			report
			Chart template.HTML
			CSV   string
		}
		// Every report reads on its own connection at once, topics (which
		// read the most) beside the others: the page takes as long as the
		// slowest, not their sum.
		var topics report
		var lists []topicList
		var terr error
		done := make(chan struct{})
		go func() { defer close(done); topics, lists, terr = h.topicsReport(ctx, q) }()
		defer func() { <-done }()
		names := reportNames[:len(reportNames)-1]
		reports := make([]shown, len(names))
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := h.buildReport(ctx, q, name)
				// The chart package escapes every text it writes.
				reports[i], errs[i] = shown{report: r, Chart: template.HTML(r.chart), CSV: "/analytics.csv?" + q.query("report", name)}, err //nolint:gosec // SVG built by internal/chart, all text escaped
			}()
		}
		wg.Wait()
		<-done
		for _, err := range append(errs, terr) {
			if err != nil {
				return nil, err
			}
		}
		return map[string]any{
			"Brands": q.brands, "Brand": q.brand, "From": q.from, "To": q.to, "Granularity": string(q.g), "Hours": string(q.clock),
			"Reports": reports, "Topics": topics, "TopicLists": lists, "TopicsCSV": "/analytics.csv?" + q.query("report", "topics"),
			"Conversations": "/analytics/conversations?" + q.query(), "LinkExamples": auth.Can(session(c).User.Role, auth.Inbox),
			"MaxExamples": analytics.MaxExamples,
		}, nil
	})
}
