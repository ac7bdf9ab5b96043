package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/routing"
	"github.com/parleyhq/parley/internal/store"
)

// analyticsRoutes are the analytics dashboard's pages, for marketers and
// admins (agents get 403: the figures are of the whole brand), a person's
// own figures and the link from a topic's example text to its
// conversation, for those who may open conversations.
func (h *Handlers) analyticsRoutes() []Route {
	return []Route{
		{http.MethodGet, "/analytics", auth.Marketing, h.analyticsShow},
		{http.MethodGet, "/analytics.csv", auth.Marketing, h.analyticsCSV},
		{http.MethodGet, "/analytics/conversations", auth.Marketing, h.analyticsConversations},
		{http.MethodGet, "/analytics/messages/:id", auth.Inbox, h.analyticsMessage},
		{http.MethodGet, "/analytics/me", auth.Inbox, h.analyticsMe},
	}
}

// analyticsQuery is what the dashboard shows: one brand the user may see,
// a period of its local dates and the bucket width.
type analyticsQuery struct {
	brand   store.Brand
	brands  []store.Brand
	period  analytics.Period
	g       analytics.Granularity
	buckets []time.Time
	from    string // the period's dates as the form shows them
	to      string
	clock   analytics.Clock // ?hours=: response times on the wall clock or in business hours
	// shared are the reads more than one report of a page takes, read
	// once per request (nil: each report reads its own).
	shared *sharedReads
}

// sharedReads are the volume and consent rows of a dashboard's period,
// read once for the reports that need them (volume, consent and
// relationship), whichever asks first.
type sharedReads struct {
	volume  func() ([]store.VolumeCount, error)
	consent func() ([]store.ConsentCount, error)
}

// share makes q's reports share their reads of st for ctx.
func (q *analyticsQuery) share(ctx context.Context, st *store.Store) {
	q.shared = &sharedReads{
		volume: sync.OnceValues(func() ([]store.VolumeCount, error) {
			return st.AnalyticsVolume(ctx, q.brand.ID, q.period.Start, q.period.End)
		}),
		consent: sync.OnceValues(func() ([]store.ConsentCount, error) {
			return st.AnalyticsConsent(ctx, q.brand.ID, q.period.Start, q.period.End)
		}),
	}
}

// volume and consent are the period's rows, shared when the page shares.
func (h *Handlers) volume(ctx context.Context, q analyticsQuery) ([]store.VolumeCount, error) {
	if q.shared != nil {
		return q.shared.volume()
	}
	return h.reports().AnalyticsVolume(ctx, q.brand.ID, q.period.Start, q.period.End)
}

func (h *Handlers) consent(ctx context.Context, q analyticsQuery) ([]store.ConsentCount, error) {
	if q.shared != nil {
		return q.shared.consent()
	}
	return h.reports().AnalyticsConsent(ctx, q.brand.ID, q.period.Start, q.period.End)
}

// analyticsParams reads ?brand=&from=&to=&granularity=&hours= as the API does (by
// default the first brand the user may see and the week up to today). A
// bad value is a 400 naming the field; another brand's a 403.
func (h *Handlers) analyticsParams(c echo.Context) (analyticsQuery, error) {
	return h.analyticsQueryOf(c, c.QueryParams())
}

// analyticsQueryOf is analyticsParams of the parameters v.
func (h *Handlers) analyticsQueryOf(c echo.Context, v url.Values) (analyticsQuery, error) {
	var q analyticsQuery
	visible, err := h.Conversations.VisibleBrands(c.Request().Context(), session(c).User)
	if err != nil {
		return q, err
	}
	if len(visible) == 0 {
		return q, echo.NewHTTPError(http.StatusForbidden, "you do not have access to any brand")
	}
	q.brands = visible
	slug := v.Get("brand")
	if slug == "" {
		slug = visible[0].Slug
	}
	b, status, msg, err := h.brandBySlug(c, slug)
	if err != nil {
		return q, err
	}
	if status != 0 {
		return q, echo.NewHTTPError(status, msg)
	}
	q.brand = b
	loc, lerr := time.LoadLocation(b.Timezone)
	if lerr != nil {
		loc = time.UTC
	}
	p, field, perr := analytics.ParsePeriod(strings.TrimSpace(v.Get("from")), strings.TrimSpace(v.Get("to")), time.Now(), loc)
	if perr != nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, field+": "+perr.Error())
	}
	g, gerr := analytics.ParseGranularity(v.Get("granularity"))
	if gerr != nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, "granularity: "+gerr.Error())
	}
	if n := p.Count(g); n > analytics.MaxBuckets {
		return q, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("to: the period holds %d %ss; ask for at most %d", n, g, analytics.MaxBuckets))
	}
	clock, cerr := analytics.ParseClock(v.Get("hours"))
	if cerr != nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, "hours: "+cerr.Error())
	}
	q.period, q.g, q.buckets, q.clock = p, g, analytics.Buckets(p, g), clock
	q.from, q.to = p.Start.Format(time.DateOnly), p.End.AddDate(0, 0, -1).Format(time.DateOnly)
	return q, nil
}

// query is the dashboard's query string for q, with extra on top.
func (q analyticsQuery) query(extra ...string) string {
	v := url.Values{"brand": {q.brand.Slug}, "from": {q.from}, "to": {q.to}, "granularity": {string(q.g)}}
	if q.clock == analytics.Business {
		v.Set("hours", string(q.clock))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v.Encode()
}

// responseRules are the brand's business hours and first-response target
// for response times on q's clock.
func (h *Handlers) responseRules(ctx context.Context, q analyticsQuery) (analytics.ResponseRules, error) {
	var settings routing.Settings
	if h.Automation != nil {
		brands, err := h.Automation.Brands(ctx)
		if err != nil {
			return analytics.ResponseRules{}, err
		}
		settings = brands[q.brand.ID].Settings
	}
	return analytics.RulesOf(settings, q.clock, q.period, time.Now()), nil
}

// labels are the buckets' names, as the API writes them.
func (q analyticsQuery) labels() []string {
	out := make([]string, len(q.buckets))
	for i, b := range q.buckets {
		out[i] = analytics.Label(b, q.g, q.period.Loc)
	}
	return out
}

// dayLinks lead from each bucket to the conversations active on its local
// day.
func (q analyticsQuery) dayLinks() []string {
	out := make([]string, len(q.buckets))
	for i, b := range q.buckets {
		out[i] = "/analytics/conversations?" + url.Values{"brand": {q.brand.Slug}, "day": {b.In(q.period.Loc).Format(time.DateOnly)}}.Encode()
	}
	return out
}

// index is the bucket at falls in, or -1.
func (q analyticsQuery) index(at time.Time) int { return analytics.Index(q.buckets, q.period.End, at) }

// reportNames are the dashboard's reports, in page order; each has a table
// and a CSV of the same rows.
var reportNames = []string{"volume", "response-times", "delivery", "consent", "relationship", "topics"}

// report is one of the dashboard's figures: its chart, and its numbers as
// rows of cells (the table under the chart and the CSV download).
type report struct {
	Name, Title string
	Cols        []string
	Rows        [][]string
	chart       string // SVG from internal/chart, every text in it escaped
	Note        string
	// More are further tables under the first (not in its CSV).
	More []figures
}

// figures is a titled table of a report.
type figures struct {
	Title string
	Cols  []string
	Rows  [][]string
}

// buildReport reads and computes one report.
func (h *Handlers) buildReport(ctx context.Context, q analyticsQuery, name string) (report, error) {
	switch name {
	case "volume":
		return h.volumeReport(ctx, q)
	case "response-times":
		return h.responseReport(ctx, q)
	case "delivery":
		return h.deliveryReport(ctx, q)
	case "consent":
		return h.consentReport(ctx, q)
	case "relationship":
		return h.relationshipReport(ctx, q)
	case "topics":
		r, _, err := h.topicsReport(ctx, q)
		return r, err
	}
	return report{}, echo.NewHTTPError(http.StatusBadRequest, "report: one of "+strings.Join(reportNames, ", "))
}

// share is part of whole as "97.5%", or "" with no whole.
func share(part, whole int) string {
	if whole == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

// seconds is a duration in seconds as people read it ("4m 10s"), or ""
// with none.
func seconds(v *float64) string {
	if v == nil {
		return ""
	}
	return (time.Duration(*v*float64(time.Second)) / time.Second * time.Second).String()
}
