package api

import (
	"math"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/analytics"
)

// analyticsRelationship: GET /api/v1/analytics/relationship — per bucket,
// how customers answer what the brand starts: proactive texts (triggers)
// and their replies within 48 hours, questions asked and answered, and
// opt-outs against the texts sent; beside the rows the audience as it
// stood at the last engagement scoring, as_of (open conversations; of the
// customers of the last 90 days, those who came back and the power users'
// share of what they wrote).
func (h *Handlers) analyticsRelationship(c echo.Context) error {
	return h.analyticsRun(c, "relationship", func(q analyticsQuery) (table, map[string]any, error) {
		ctx := c.Request().Context()
		st := h.reports()
		rel, err := st.AnalyticsRelationship(ctx, q.brand.ID, q.period.Start, q.period.End)
		if err != nil {
			return table{}, nil, err
		}
		vol, err := st.AnalyticsVolume(ctx, q.brand.ID, q.period.Start, q.period.End)
		if err != nil {
			return table{}, nil, err
		}
		consent, err := st.AnalyticsConsent(ctx, q.brand.ID, q.period.Start, q.period.End)
		if err != nil {
			return table{}, nil, err
		}
		aud, err := st.AnalyticsCustomerBase(ctx, q.brand.ID)
		if err != nil {
			return table{}, nil, err
		}
		cols := []string{"proactive_sent", "proactive_replied", "questions_asked", "questions_answered", "outbound", "opt_outs", "opt_ins",
			"proactive_reply_rate", "question_answer_rate", "opt_out_rate"}
		buckets := analytics.Relationship(rel, vol, consent, q.buckets, q.period.End)
		t := table{cols: append([]string{"bucket"}, cols...)}
		for i, b := range buckets {
			t.rows = append(t.rows, map[string]any{"bucket": analytics.Label(q.buckets[i], q.g, q.period.Loc),
				"proactive_sent": b.ProactiveSent, "proactive_replied": b.ProactiveReplied, "questions_asked": b.QuestionsAsked,
				"questions_answered": b.QuestionsAnswered, "outbound": b.Outbound, "opt_outs": b.OptOuts, "opt_ins": b.OptIns,
				"proactive_reply_rate": rate(b.ProactiveReplied, b.ProactiveSent), "question_answer_rate": rate(b.QuestionsAnswered, b.QuestionsAsked),
				"opt_out_rate": rate(b.OptOuts, b.Outbound)})
		}
		return t, map[string]any{"customers": map[string]any{
			"open_conversations": aud.OpenConversations, "customers_90d": aud.Customers, "repeat_customers_90d": aud.Repeat,
			"repeat_share": rate(aud.Repeat, aud.Customers), "power_users": aud.PowerUsers, "texts_90d": aud.Texts,
			"power_users_share_of_texts": rate(aud.PowerUserTexts, aud.Texts), "as_of": aud.AsOf,
		}}, nil
	})
}

// rate is part / whole to four decimals, null when whole is 0.
func rate(part, whole int) any {
	r, ok := analytics.Rate(part, whole)
	if !ok {
		return nil
	}
	return math.Round(r*10000) / 10000
}
