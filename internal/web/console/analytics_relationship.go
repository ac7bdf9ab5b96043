package console

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/chart"
)

// relationshipReport: per bucket, how customers answered what the brand
// started — proactive texts and their replies within 48 hours, questions
// and their answers, opt-outs against the texts sent — as GET
// /api/v1/analytics/relationship counts them; the note is the customer
// base as of the last engagement scoring (repeat customers, the power
// users' share of texts).
func (h *Handlers) relationshipReport(ctx context.Context, q analyticsQuery) (report, error) {
	st := h.reports()
	rel, err := st.AnalyticsRelationship(ctx, q.brand.ID, q.period.Start, q.period.End)
	if err != nil {
		return report{}, err
	}
	vol, err := h.volume(ctx, q)
	if err != nil {
		return report{}, err
	}
	consent, err := h.consent(ctx, q)
	if err != nil {
		return report{}, err
	}
	base, err := st.AnalyticsCustomerBase(ctx, q.brand.ID)
	if err != nil {
		return report{}, err
	}
	buckets := analytics.Relationship(rel, vol, consent, q.buckets, q.period.End)
	r := report{Name: "relationship", Title: "Answers to what the brand starts", Cols: []string{"bucket", "proactive sent", "replied",
		"reply rate", "questions asked", "answered", "answer rate", "texts sent", "opt-outs", "opt-out rate"}}
	proactive, questions := make([]float64, len(buckets)), make([]float64, len(buckets))
	for i, lb := range q.labels() {
		b := buckets[i]
		r.Rows = append(r.Rows, []string{lb, fmt.Sprint(b.ProactiveSent), fmt.Sprint(b.ProactiveReplied), share(b.ProactiveReplied, b.ProactiveSent),
			fmt.Sprint(b.QuestionsAsked), fmt.Sprint(b.QuestionsAnswered), share(b.QuestionsAnswered, b.QuestionsAsked),
			fmt.Sprint(b.Outbound), fmt.Sprint(b.OptOuts), share(b.OptOuts, b.Outbound)})
		// Counts, not rates: a day with nothing sent has no rate, and a
		// line would draw it as 0%. The table has the rates.
		proactive[i], questions[i] = float64(b.ProactiveReplied), float64(b.QuestionsAnswered)
	}
	r.chart = chart.Line{Title: "Replies to proactive texts and answers to questions per " + string(q.g), Labels: q.labels(), Hrefs: q.dayLinks(),
		Series: []chart.Series{{Name: "proactive texts replied", Class: "series-in", Values: proactive},
			{Name: "questions answered", Class: "series-ok", Values: questions}}}.SVG()
	if base.AsOf == nil {
		r.Note = "The customer base appears after the first engagement scoring (every 5 minutes)."
	} else {
		r.Note = fmt.Sprintf("At %s: %d conversations open; of %d customers who wrote in the last 90 days, %d wrote more than once (%s); the most engaged tenth (%d power users) wrote %s of their %d texts.",
			base.AsOf.In(q.period.Loc).Format("2006-01-02 15:04"), base.OpenConversations, base.Customers, base.Repeat,
			orDash(share(base.Repeat, base.Customers)), base.PowerUsers, orDash(share(base.PowerUserTexts, base.Texts)), base.Texts)
	}
	return r, nil
}
