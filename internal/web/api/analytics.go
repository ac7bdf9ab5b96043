package api

import (
	"encoding/csv"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
	"github.com/parleyhq/parley/internal/web/download"
)

// analyticsRoutes are the API's analytics routes.
var analyticsRoutes = []route{
	{http.MethodGet, "/analytics/volume", auth.AnalyticsRead, false, (*Handlers).analyticsVolume},
	{http.MethodGet, "/analytics/response-times", auth.AnalyticsRead, false, (*Handlers).analyticsResponseTimes},
	{http.MethodGet, "/analytics/delivery", auth.AnalyticsRead, false, (*Handlers).analyticsDelivery},
	{http.MethodGet, "/analytics/consent", auth.AnalyticsRead, false, (*Handlers).analyticsConsent},
	{http.MethodGet, "/analytics/campaigns", auth.AnalyticsRead, false, (*Handlers).analyticsCampaigns},
	{http.MethodGet, "/analytics/topics", auth.AnalyticsRead, false, (*Handlers).analyticsTopics},
	{http.MethodGet, "/analytics/relationship", auth.AnalyticsRead, false, (*Handlers).analyticsRelationship},
	{http.MethodGet, "/analytics/conversations.csv", auth.AnalyticsRead, false, (*Handlers).analyticsConversations},
}

// analyticsQuery is what every analytics request names: the brand, the
// period (local dates of the brand's zone) and the bucket width.
type analyticsQuery struct {
	brand   store.Brand
	period  analytics.Period
	g       analytics.Granularity
	buckets []time.Time
	clock   analytics.Clock // ?hours= (response-times)
}

// analyticsParams reads ?brand=&from=&to=&granularity=&hours=: the brand is
// required and must be the key's; from and to are local dates (by default
// the week up to today), at most analytics.MaxBuckets buckets apart. A
// brand whose zone cannot be loaded is read in UTC.
func (h *Handlers) analyticsParams(c echo.Context) (analyticsQuery, *apierr.Error, error) {
	var q analyticsQuery
	b, bad, err := h.brandParam(c, true)
	if bad != nil || err != nil {
		return q, bad, err
	}
	if bad := brandAllowed(c, b.ID, b.Slug); bad != nil {
		return q, bad, nil
	}
	q.brand = b
	loc, lerr := time.LoadLocation(b.Timezone)
	if lerr != nil {
		loc = time.UTC
	}
	p, field, perr := analytics.ParsePeriod(strings.TrimSpace(c.QueryParam("from")), strings.TrimSpace(c.QueryParam("to")), time.Now(), loc)
	if perr != nil {
		return q, apierr.Field("invalid_field", field, "%v", perr), nil
	}
	g, gerr := analytics.ParseGranularity(c.QueryParam("granularity"))
	if gerr != nil {
		return q, apierr.Field("invalid_field", "granularity", "%v", gerr), nil
	}
	if n := p.Count(g); n > analytics.MaxBuckets {
		return q, apierr.Field("invalid_field", "to", "the period holds %d %ss; ask for at most %d (a longer period by day, or a shorter one)",
			n, g, analytics.MaxBuckets), nil
	}
	clock, cerr := analytics.ParseClock(c.QueryParam("hours"))
	if cerr != nil {
		return q, apierr.Field("invalid_field", "hours", "%v", cerr), nil
	}
	q.period, q.g, q.buckets, q.clock = p, g, analytics.Buckets(p, g), clock
	return q, nil, nil
}

// table is an analytics answer: rows of named values, in column order. A
// value that is a map becomes one CSV column per key ("by_purpose.marketing").
type table struct {
	cols []string
	rows []map[string]any
}

// bucketTable is a table with one row per bucket, each holding the bucket's
// label and what fill puts in it.
func (q analyticsQuery) bucketTable(cols []string, fill func(row map[string]any)) table {
	t := table{cols: append([]string{"bucket"}, cols...), rows: make([]map[string]any, len(q.buckets))}
	for i, b := range q.buckets {
		row := map[string]any{"bucket": analytics.Label(b, q.g, q.period.Loc)}
		fill(row)
		t.rows[i] = row
	}
	return t
}

// at is the row of the bucket t falls in, or nil outside the period.
func (q analyticsQuery) at(t table, at time.Time) map[string]any {
	i := analytics.Index(q.buckets, q.period.End, at)
	if i < 0 {
		return nil
	}
	return t.rows[i]
}

// zeros is a count per key, all zero.
func zeros(keys []string) map[string]int {
	m := make(map[string]int, len(keys))
	for _, k := range keys {
		m[k] = 0
	}
	return m
}

// analyticsAnswer writes t as {"data": rows, …extra} or, asked for with
// Accept: text/csv, as CSV.
func (h *Handlers) analyticsAnswer(c echo.Context, q analyticsQuery, kind string, t table, extra map[string]any) error {
	if !wantsCSV(c) {
		body := map[string]any{"data": t.rows}
		maps.Copy(body, extra)
		return c.JSON(http.StatusOK, body)
	}
	dw := download.New(c.Response(), csvType, download.Filename("analytics-"+kind, q.brand.Slug, time.Now()))
	cw := csv.NewWriter(dw)
	header := t.header()
	_ = cw.Write(header)
	for _, r := range t.rows {
		rec := make([]string, len(header))
		for i, col := range header {
			rec[i] = cell(lookup(r, col))
		}
		_ = cw.Write(analyticsSafe(rec))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.log.Warn("analytics csv cut short", "kind", kind, "err", err)
	}
	return dw.Flush()
}

func wantsCSV(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "text/csv")
}

// header is the CSV header: each column, a map column as one column per
// key of any row, keys sorted.
func (t table) header() []string {
	var out []string
	for _, col := range t.cols {
		keys := map[string]bool{}
		isMap := false
		for _, r := range t.rows {
			if sub := subKeys(r[col]); sub != nil {
				isMap = true
				for _, k := range sub {
					keys[k] = true
				}
			}
		}
		if !isMap {
			out = append(out, col)
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			out = append(out, col+"."+k)
		}
	}
	return out
}

func subKeys(v any) []string {
	switch m := v.(type) {
	case map[string]int:
		return slices.Collect(maps.Keys(m))
	case map[string]any:
		return slices.Collect(maps.Keys(m))
	}
	return nil
}

// lookup is a row's value of a header column ("by_origin.agent").
func lookup(r map[string]any, col string) any {
	if v, ok := r[col]; ok {
		return v
	}
	top, key, _ := strings.Cut(col, ".")
	switch m := r[top].(type) {
	case map[string]int:
		return m[key]
	case map[string]any:
		return m[key]
	}
	return nil
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case *float64:
		if x == nil {
			return ""
		}
		return fmt.Sprint(*x)
	case *time.Time:
		if x == nil {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case []string:
		return strings.Join(x, ";")
	case []analytics.Text:
		ids := make([]string, len(x))
		for i, t := range x {
			ids[i] = fmt.Sprint(t.ID)
		}
		return strings.Join(ids, ";")
	}
	return fmt.Sprint(v)
}

// analyticsSafe is csvSafe for cells that are not numbers: a phone in E.164
// ("+12125550101") or a count stays as it is, a name or label starting
// like a formula gets its apostrophe.
func analyticsSafe(rec []string) []string {
	for i, v := range rec {
		if !plainNumber(v) {
			rec[i] = csvSafe(rec[i : i+1])[0]
		}
	}
	return rec
}

func plainNumber(v string) bool {
	v = strings.TrimPrefix(v, "+")
	if v == "" {
		return false
	}
	for _, r := range v {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}
