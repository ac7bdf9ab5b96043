package console

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/chart"
)

// The dashboard reads the same rows as GET /api/v1/analytics/…, through
// the same store functions, and puts them in buckets with the same
// functions of internal/analytics.

// volumeReport: texts in and out per bucket.
func (h *Handlers) volumeReport(ctx context.Context, q analyticsQuery) (report, error) {
	counts, err := h.reports().AnalyticsVolume(ctx, q.brand.ID, q.period.Start, q.period.End)
	if err != nil {
		return report{}, err
	}
	in, out := make([]float64, len(q.buckets)), make([]float64, len(q.buckets))
	for _, v := range counts {
		i := q.index(v.Slot)
		if i < 0 {
			continue
		}
		if v.Direction == "inbound" {
			in[i] += float64(v.N)
		} else {
			out[i] += float64(v.N)
		}
	}
	r := report{Name: "volume", Title: "Texts in and out", Cols: []string{"bucket", "inbound", "outbound"}}
	labels := q.labels()
	for i, lb := range labels {
		r.Rows = append(r.Rows, []string{lb, fmt.Sprint(in[i]), fmt.Sprint(out[i])})
	}
	r.chart = chart.Line{Title: "Texts in and out per " + string(q.g), Labels: labels, Hrefs: q.dayLinks(),
		Series: []chart.Series{{Name: "inbound", Class: "series-in", Values: in}, {Name: "outbound", Class: "series-out", Values: out}}}.SVG()
	return r, nil
}

// responseReport: the waits that began in each bucket and how long their
// first response by a person took; the chart is the period's distribution.
func (h *Handlers) responseReport(ctx context.Context, q analyticsQuery) (report, error) {
	eps, err := analytics.ReadWaits(ctx, h.reports(), q.brand.ID, q.period)
	if err != nil {
		return report{}, err
	}
	first := make([][]float64, len(q.buckets))
	waits := make([]int, len(q.buckets))
	var all []float64
	for _, ep := range eps {
		i := q.index(ep.Start)
		if i < 0 {
			continue
		}
		waits[i]++
		if ep.FirstResponse != nil {
			s := ep.FirstResponse.Sub(ep.Start).Seconds()
			first[i], all = append(first[i], s), append(all, s)
		}
	}
	r := report{Name: "response-times", Title: "First response by a person",
		Cols: []string{"bucket", "waits", "answered", "p50", "p90"}}
	for i, lb := range q.labels() {
		s := analytics.Summarize(first[i])
		r.Rows = append(r.Rows, []string{lb, fmt.Sprint(waits[i]), fmt.Sprint(s.Count), seconds(s.P50), seconds(s.P90)})
	}
	dist := analytics.Distribution(all)
	bars := chart.Bars{Title: "First responses of the period by wait", Class: "series-in"}
	for _, band := range analytics.DistributionBands {
		bars.Bars = append(bars.Bars, chart.Bar{Label: band, Value: float64(dist[band])})
	}
	r.chart = bars.SVG()
	tot := analytics.Summarize(all)
	r.Note = fmt.Sprintf("%d answered in the period; median %s, 90th percentile %s.", tot.Count, orDash(seconds(tot.P50)), orDash(seconds(tot.P90)))
	return r, nil
}

// deliveryReport: outbound texts per bucket by what became of them, with
// the delivered share of those the carrier took.
func (h *Handlers) deliveryReport(ctx context.Context, q analyticsQuery) (report, error) {
	counts, errs, err := h.reports().AnalyticsDelivery(ctx, q.brand.ID, q.period.Start, q.period.End, 5)
	if err != nil {
		return report{}, err
	}
	type row struct{ sent, delivered, undelivered, failed, pending, suppressed int }
	rows := make([]row, len(q.buckets))
	for _, d := range counts {
		i := q.index(d.Slot)
		if i < 0 {
			continue
		}
		r := &rows[i]
		if d.Accepted {
			r.sent += d.N
		}
		switch d.Status {
		case "delivered", "read":
			r.delivered += d.N
		case "undelivered":
			r.undelivered += d.N
		case "failed":
			r.failed += d.N
		case "queued", "held", "sending":
			r.pending += d.N
		case "suppressed", "canceled":
			r.suppressed += d.N
		}
	}
	r := report{Name: "delivery", Title: "Delivery",
		Cols: []string{"bucket", "sent", "delivered", "undelivered", "failed", "pending", "suppressed", "delivered_rate"}}
	delivered, notDelivered := make([]float64, len(rows)), make([]float64, len(rows))
	for i, lb := range q.labels() {
		x := rows[i]
		r.Rows = append(r.Rows, []string{lb, fmt.Sprint(x.sent), fmt.Sprint(x.delivered), fmt.Sprint(x.undelivered), fmt.Sprint(x.failed),
			fmt.Sprint(x.pending), fmt.Sprint(x.suppressed), share(x.delivered, x.sent)})
		delivered[i], notDelivered[i] = float64(x.delivered), float64(x.undelivered+x.failed)
	}
	r.chart = chart.Line{Title: "Texts delivered and not per " + string(q.g), Labels: q.labels(), Hrefs: q.dayLinks(),
		Series: []chart.Series{{Name: "delivered", Class: "series-ok", Values: delivered}, {Name: "undelivered or failed", Class: "series-bad", Values: notDelivered}}}.SVG()
	if len(errs) > 0 {
		r.Note = "Most frequent carrier errors:"
		for _, e := range errs {
			r.Note += fmt.Sprintf(" %d (%d×)", e.Code, e.Count)
		}
	}
	return r, nil
}

// consentReport: phones opting in and out per bucket.
func (h *Handlers) consentReport(ctx context.Context, q analyticsQuery) (report, error) {
	counts, err := h.reports().AnalyticsConsent(ctx, q.brand.ID, q.period.Start, q.period.End)
	if err != nil {
		return report{}, err
	}
	ins, outs := make([]float64, len(q.buckets)), make([]float64, len(q.buckets))
	for _, e := range counts {
		i := q.index(e.Slot)
		if i < 0 {
			continue
		}
		if e.Status == "opted_out" {
			outs[i] += float64(e.N)
		} else {
			ins[i] += float64(e.N)
		}
	}
	r := report{Name: "consent", Title: "Opt-ins and opt-outs", Cols: []string{"bucket", "opt_ins", "opt_outs"}}
	for i, lb := range q.labels() {
		r.Rows = append(r.Rows, []string{lb, fmt.Sprint(ins[i]), fmt.Sprint(outs[i])})
	}
	r.chart = chart.Line{Title: "Phones opting in and out per " + string(q.g), Labels: q.labels(),
		Series: []chart.Series{{Name: "opt-ins", Class: "series-ok", Values: ins}, {Name: "opt-outs", Class: "series-bad", Values: outs}}}.SVG()
	return r, nil
}

// topicCount is how many terms the dashboard shows in each topic list.
const topicCount = 10

// topicList is one of the two topic lists for the page.
type topicList struct {
	Name   string
	Topics []analytics.Topic
}

// topicsReport: the terms most customers' texts of the period hold, and
// those grown most against the period before.
func (h *Handlers) topicsReport(ctx context.Context, q analyticsQuery) (report, []topicList, error) {
	tl, err := analytics.ReadTopics(ctx, h.reports(), q.brand.ID, q.period, topicCount)
	if err != nil {
		return report{}, nil, err
	}
	lists := []topicList{{"Top", tl.Top}, {"Rising", tl.Rising}}
	r := report{Name: "topics", Title: "Topics", Cols: []string{"list", "term", "count", "previous"}}
	for _, l := range lists {
		for _, tp := range l.Topics {
			r.Rows = append(r.Rows, []string{l.Name, tp.Term, fmt.Sprint(tp.Count), fmt.Sprint(tp.Previous)})
		}
	}
	r.Note = fmt.Sprintf("%d customer texts in the period, %d in the period before.", tl.Texts, tl.PreviousTexts)
	if tl.CountError > 0 {
		r.Note += fmt.Sprintf(" Busy days keep their most frequent terms: a count may be short by up to %d.", tl.CountError)
	}
	return r, lists, nil
}
