package console

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/analytics"
)

// analyticsMe: GET /analytics/me?brand=&from=&to=&granularity=&hours= — a
// person's own figures, for those who answer customers (agents, admins):
// the waits of the period whose first response by a person was theirs,
// how long that took and how long to the close, per bucket and in total,
// and how many conversations they were. The brand's waits are read as
// the dashboard reads them and kept only where the first reply was this
// user's: nobody else's figures reach the page.
func (h *Handlers) analyticsMe(c echo.Context) error {
	return h.showPage(c, "analytics_me", func(c echo.Context) (map[string]any, error) {
		q, err := h.analyticsParams(c)
		if err != nil {
			return nil, err
		}
		eps, err := analytics.ReadWaits(c.Request().Context(), h.reports(), q.brand.ID, q.period)
		if err != nil {
			return nil, err
		}
		rules, err := h.responseRules(c.Request().Context(), q)
		if err != nil {
			return nil, err
		}
		me := session(c).User.ID
		mine := eps[:0]
		convs := map[int64]bool{}
		for _, ep := range eps {
			if ep.FirstResponse != nil && ep.Responder == me {
				mine, convs[ep.Conversation] = append(mine, ep), true
			}
		}
		rt := analytics.Responsiveness(mine, q.buckets, q.period.End, rules)
		var rows [][]string
		for i, lb := range q.labels() {
			f, r := rt.Buckets[i].FirstResponse, rt.Buckets[i].Resolution
			rows = append(rows, []string{lb, fmt.Sprint(f.Count), seconds(f.P50), seconds(f.P90), fmt.Sprint(r.Count), seconds(r.P50)})
		}
		f, r := rt.Total.FirstResponse, rt.Total.Resolution
		bands := make([][]string, 0, len(analytics.DistributionBands))
		for _, b := range analytics.DistributionBands {
			bands = append(bands, []string{b, fmt.Sprint(rt.Total.Distribution[b])})
		}
		return map[string]any{
			"Brands": q.brands, "Brand": q.brand, "From": q.from, "To": q.to, "Granularity": string(q.g), "Hours": string(q.clock),
			"Rows": rows, "Bands": bands, "Conversations": len(convs),
			"First":      []string{fmt.Sprint(f.Count), orDash(seconds(f.P50)), orDash(seconds(f.P90)), orDash(seconds(f.Mean))},
			"Resolution": []string{fmt.Sprint(r.Count), orDash(seconds(r.P50)), orDash(seconds(r.P90)), orDash(seconds(r.Mean))},
		}, nil
	})
}
