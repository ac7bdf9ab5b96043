package console

import (
	"cmp"
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
	counts, err := h.volume(ctx, q)
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

// responseReport: the waits that began in each bucket, how long their
// first response by a person took (on the wall clock or in business
// hours, ?hours=) and how many breached the brand's first-response
// target; the chart is the period's distribution, the further tables each
// person's first responses and the waits by hour of the day.
func (h *Handlers) responseReport(ctx context.Context, q analyticsQuery) (report, error) {
	eps, err := analytics.ReadWaits(ctx, h.reports(), q.brand.ID, q.period)
	if err != nil {
		return report{}, err
	}
	rules, err := h.responseRules(ctx, q)
	if err != nil {
		return report{}, err
	}
	rt := analytics.Responsiveness(eps, q.buckets, q.period.End, rules)
	title := "First response by a person"
	if q.clock == analytics.Business {
		title += ", in business hours"
	}
	r := report{Name: "response-times", Title: title, Cols: []string{"bucket", "waits", "answered", "p50", "p90", "sla breaches"}}
	for i, lb := range q.labels() {
		b := rt.Buckets[i]
		r.Rows = append(r.Rows, []string{lb, fmt.Sprint(b.Waits), fmt.Sprint(b.FirstResponse.Count), seconds(b.FirstResponse.P50),
			seconds(b.FirstResponse.P90), fmt.Sprint(b.SLABreaches)})
	}
	bars := chart.Bars{Title: "First responses of the period by wait", Class: "series-in"}
	for _, band := range analytics.DistributionBands {
		bars.Bars = append(bars.Bars, chart.Bar{Label: band, Value: float64(rt.Total.Distribution[band])})
	}
	r.chart = bars.SVG()
	tot := rt.Total.FirstResponse
	r.Note = fmt.Sprintf("%d answered in the period; median %s, 90th percentile %s.", tot.Count, orDash(seconds(tot.P50)), orDash(seconds(tot.P90)))
	if n := rt.Total.NextResponse; n.Count > 0 {
		r.Note += fmt.Sprintf(" Next responses (the customer writing again after a reply): %d, median %s, 90th percentile %s.",
			n.Count, orDash(seconds(n.P50)), orDash(seconds(n.P90)))
	}
	if s := rt.SLA; s.Target > 0 {
		clock := "on the clock"
		if s.BusinessHours {
			clock = "in business hours"
		}
		r.Note += fmt.Sprintf(" Target %s %s: %d met, %d breached, %d not yet due.", s.Target, clock, s.Met, s.Breached, s.Pending)
	}
	if len(rt.ByAgent) > 0 {
		users, err := h.Store.Users(ctx)
		if err != nil {
			return report{}, err
		}
		names := make(map[int64]string, len(users))
		for _, u := range users {
			names[u.ID] = cmp.Or(u.Name, u.Email)
		}
		people := figures{Title: "By person (first responses)", Cols: []string{"person", "answered", "p50", "p90", "mean", "sla breaches"}}
		for _, a := range rt.ByAgent {
			people.Rows = append(people.Rows, []string{cmp.Or(names[a.UserID], fmt.Sprintf("user %d", a.UserID)), fmt.Sprint(a.FirstResponse.Count),
				seconds(a.FirstResponse.P50), seconds(a.FirstResponse.P90), seconds(a.FirstResponse.Mean), fmt.Sprint(a.SLABreaches)})
		}
		r.More = append(r.More, people)
	}
	hours := figures{Title: "By hour of the day the wait began", Cols: []string{"hour", "waits", "answered", "p50", "p90", "sla breaches"}}
	for hour, b := range rt.ByHour {
		if b.Waits > 0 {
			hours.Rows = append(hours.Rows, []string{fmt.Sprintf("%02d:00", hour), fmt.Sprint(b.Waits), fmt.Sprint(b.FirstResponse.Count),
				seconds(b.FirstResponse.P50), seconds(b.FirstResponse.P90), fmt.Sprint(b.SLABreaches)})
		}
	}
	r.More = append(r.More, hours)
	answered := figures{Title: "How the waits were answered first", Cols: []string{"answered", "waits", "share"}}
	labels := map[string]string{"person": "by a person", "auto_reply_then_person": "automatically, then by a person",
		"auto_reply_only": "automatically only", "none": "not yet"}
	for _, k := range analytics.AnsweredBy {
		answered.Rows = append(answered.Rows, []string{labels[k], fmt.Sprint(rt.Total.AnsweredBy[k]), share(rt.Total.AnsweredBy[k], rt.Total.Waits)})
	}
	r.More = append(r.More, answered)
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
	segments := map[string]int{"conversational": 0, "marketing": 0}
	for _, d := range counts {
		i := q.index(d.Slot)
		if i < 0 {
			continue
		}
		r := &rows[i]
		if d.Accepted {
			r.sent += d.N
			segments["marketing"] += d.MarketingSegments
			segments["conversational"] += d.Segments - d.MarketingSegments
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
	codes := figures{Title: "Carrier errors of the period", Cols: []string{"code", "texts", "meaning"}}
	for _, e := range errs {
		codes.Rows = append(codes.Rows, []string{fmt.Sprint(e.Code), fmt.Sprint(e.Count), cmp.Or(analytics.ErrorMeaning(e.Code), "see the carrier's error list")})
	}
	cost := figures{Title: "Segments sent by purpose (the cost)", Cols: []string{"purpose", "segments"}}
	for _, p := range []string{"conversational", "marketing"} {
		cost.Rows = append(cost.Rows, []string{p, fmt.Sprint(segments[p])})
	}
	r.More = append(r.More, codes, cost)
	return r, nil
}

// consentReport: phones opting in and out per bucket.
func (h *Handlers) consentReport(ctx context.Context, q analyticsQuery) (report, error) {
	counts, err := h.consent(ctx, q)
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
