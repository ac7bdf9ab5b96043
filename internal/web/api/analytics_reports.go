package api

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// analyticsRun reads the request's parameters and, if they are good, answers
// with what build makes of them.
func (h *Handlers) analyticsRun(c echo.Context, kind string, build func(q analyticsQuery) (table, map[string]any, error)) error {
	q, bad, err := h.analyticsParams(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	t, extra, err := build(q)
	if err != nil {
		return h.internal(c, err)
	}
	return h.analyticsAnswer(c, q, kind, t, extra)
}

// analyticsVolume: GET /api/v1/analytics/volume — texts in and out per
// bucket, the outbound ones by purpose and by origin.
func (h *Handlers) analyticsVolume(c echo.Context) error {
	return h.analyticsRun(c, "volume", func(q analyticsQuery) (table, map[string]any, error) {
		counts, err := h.reports().AnalyticsVolume(c.Request().Context(), q.brand.ID, q.period.Start, q.period.End)
		if err != nil {
			return table{}, nil, err
		}
		origins := map[string]bool{"agent": true, "auto_reply": true, "compliance": true, "api": true, "campaign": true, "trigger": true}
		for _, v := range counts {
			if v.Direction == "outbound" {
				origins[v.Origin] = true
			}
		}
		originKeys := slices.Sorted(maps.Keys(origins))
		t := q.bucketTable([]string{"inbound", "outbound", "by_purpose", "by_origin"}, func(r map[string]any) {
			r["inbound"], r["outbound"] = 0, 0
			r["by_purpose"] = zeros([]string{"conversational", "marketing"})
			r["by_origin"] = zeros(originKeys)
		})
		for _, v := range counts {
			r := q.at(t, v.Slot)
			if r == nil {
				continue
			}
			if v.Direction == "inbound" {
				r["inbound"] = r["inbound"].(int) + v.N
				continue
			}
			r["outbound"] = r["outbound"].(int) + v.N
			r["by_purpose"].(map[string]int)[v.Purpose] += v.N
			r["by_origin"].(map[string]int)[v.Origin] += v.N
		}
		return t, nil, nil
	})
}

// analyticsResponseTimes: GET /api/v1/analytics/response-times — per
// bucket of the waits that began in it: the first response by a person
// (median, 90th percentile, mean seconds, count, distribution in bands),
// the time to the close and the first-response target's breaches; beside
// the rows the period's total, the target's summary, each person's first
// responses and the waits by the local hour of the day they began. On the
// wall clock, or in the brand's business hours with ?hours=business.
func (h *Handlers) analyticsResponseTimes(c echo.Context) error {
	return h.analyticsRun(c, "response-times", func(q analyticsQuery) (table, map[string]any, error) {
		ctx := c.Request().Context()
		eps, err := analytics.ReadWaits(ctx, h.reports(), q.brand.ID, q.period)
		if err != nil {
			return table{}, nil, err
		}
		brands, err := h.automation.Brands(ctx)
		if err != nil {
			return table{}, nil, err
		}
		rt := analytics.Responsiveness(eps, q.buckets, q.period.End, analytics.RulesOf(brands[q.brand.ID].Settings, q.clock, q.period, time.Now()))
		names := map[int64]string{}
		if len(rt.ByAgent) > 0 {
			users, err := h.st.Users(ctx)
			if err != nil {
				return table{}, nil, err
			}
			for _, u := range users {
				names[u.ID] = cmp.Or(u.Name, u.Email)
			}
		}
		t := table{cols: []string{"bucket", "conversations", "first_response", "resolution", "distribution", "sla_breaches", "next_response",
			"next_response_breaches", "answered_by"}}
		for i, b := range q.buckets {
			t.rows = append(t.rows, responseRow(rt.Buckets[i], map[string]any{"bucket": analytics.Label(b, q.g, q.period.Loc)}))
		}
		byAgent := make([]map[string]any, 0, len(rt.ByAgent))
		for _, a := range rt.ByAgent {
			byAgent = append(byAgent, map[string]any{"user_id": a.UserID, "name": names[a.UserID], "first_response": statsRow(a.FirstResponse),
				"resolution": statsRow(a.Resolution), "sla_breaches": a.SLABreaches})
		}
		byHour := make([]map[string]any, 0, 24)
		for hour, b := range rt.ByHour {
			byHour = append(byHour, responseRow(b, map[string]any{"hour": hour}))
		}
		return t, map[string]any{
			"total": responseRow(rt.Total, map[string]any{}), "hours": string(q.clock), "by_agent": byAgent, "by_hour_of_day": byHour,
			"sla": map[string]any{"target_seconds": int(rt.SLA.Target.Seconds()), "business_hours": rt.SLA.BusinessHours,
				"met": rt.SLA.Met, "breached": rt.SLA.Breached, "pending": rt.SLA.Pending},
		}, nil
	})
}

// responseRow adds b's figures to row.
func responseRow(b analytics.ResponseBucket, row map[string]any) map[string]any {
	row["conversations"] = b.Waits
	row["first_response"], row["resolution"] = statsRow(b.FirstResponse), statsRow(b.Resolution)
	row["distribution"], row["sla_breaches"] = b.Distribution, b.SLABreaches
	row["next_response"], row["next_response_breaches"], row["answered_by"] = statsRow(b.NextResponse), b.NextBreaches, b.AnsweredBy
	return row
}

func statsRow(s analytics.Stats) map[string]any {
	return map[string]any{"count": s.Count, "p50": s.P50, "p90": s.P90, "mean": s.Mean}
}

// analyticsDelivery: GET /api/v1/analytics/delivery — outbound texts per
// bucket by what became of them, their segments (in all and by purpose:
// the cost), and the period's most frequent carrier error codes with what
// they mean.
func (h *Handlers) analyticsDelivery(c echo.Context) error {
	return h.analyticsRun(c, "delivery", func(q analyticsQuery) (table, map[string]any, error) {
		counts, errs, err := h.reports().AnalyticsDelivery(c.Request().Context(), q.brand.ID, q.period.Start, q.period.End, 10)
		if err != nil {
			return table{}, nil, err
		}
		cols := []string{"sent", "delivered", "undelivered", "failed", "pending", "suppressed", "segments"}
		t := q.bucketTable(append(cols, "segments_by_purpose"), func(r map[string]any) {
			for _, col := range cols {
				r[col] = 0
			}
			r["segments_by_purpose"] = zeros([]string{"conversational", "marketing"})
		})
		for _, d := range counts {
			r := q.at(t, d.Slot)
			if r == nil {
				continue
			}
			add := func(col string) { r[col] = r[col].(int) + d.N }
			if d.Accepted {
				add("sent")
				r["segments"] = r["segments"].(int) + d.Segments
				bp := r["segments_by_purpose"].(map[string]int)
				bp["marketing"] += d.MarketingSegments
				bp["conversational"] += d.Segments - d.MarketingSegments
			}
			switch d.Status {
			case "delivered", "read":
				add("delivered")
			case "undelivered":
				add("undelivered")
			case "failed":
				add("failed")
			case "queued", "held", "sending":
				add("pending")
			case "suppressed", "canceled":
				add("suppressed")
			}
		}
		top := make([]map[string]any, len(errs))
		for i, e := range errs {
			top[i] = map[string]any{"code": e.Code, "count": e.Count, "meaning": analytics.ErrorMeaning(e.Code)}
		}
		return t, map[string]any{"errors": top}, nil
	})
}

// consentSources are the ledger's sources (the consent_events check).
var consentSources = []string{"agent", "api", "carrier", "import", "keyword", "web_form"}

// analyticsConsent: GET /api/v1/analytics/consent — phones opting in and
// out per bucket, by source.
func (h *Handlers) analyticsConsent(c echo.Context) error {
	return h.analyticsRun(c, "consent", func(q analyticsQuery) (table, map[string]any, error) {
		counts, err := h.reports().AnalyticsConsent(c.Request().Context(), q.brand.ID, q.period.Start, q.period.End)
		if err != nil {
			return table{}, nil, err
		}
		t := q.bucketTable([]string{"opt_ins", "opt_outs", "opt_ins_by_source", "opt_outs_by_source"}, func(r map[string]any) {
			r["opt_ins"], r["opt_outs"] = 0, 0
			r["opt_ins_by_source"], r["opt_outs_by_source"] = zeros(consentSources), zeros(consentSources)
		})
		for _, e := range counts {
			r := q.at(t, e.Slot)
			if r == nil {
				continue
			}
			col := "opt_ins"
			if e.Status == "opted_out" {
				col = "opt_outs"
			}
			r[col] = r[col].(int) + e.N
			r[col+"_by_source"].(map[string]int)[e.Source] += e.N
		}
		return t, nil, nil
	})
}

// analyticsCampaigns: GET /api/v1/analytics/campaigns — each campaign
// started in the period with its funnel (as GET /campaigns/{id} counts
// it): sent is every text the carrier took, delivered or not; the rates
// are of the texts sent; variants (JSON only) are the same per variant.
func (h *Handlers) analyticsCampaigns(c echo.Context) error {
	return h.analyticsRun(c, "campaigns", func(q analyticsQuery) (table, map[string]any, error) {
		cs, err := h.reports().AnalyticsCampaigns(c.Request().Context(), q.brand.ID, q.period.Start, q.period.End)
		if err != nil {
			return table{}, nil, err
		}
		t := table{cols: []string{"id", "name", "state", "started_at", "recipients", "sent", "delivered", "failed", "replied", "clicked",
			"opted_out", "segments", "delivery_rate", "reply_rate", "click_rate", "opt_out_rate"}, rows: []map[string]any{}}
		for _, f := range cs {
			row := funnelRow(f.Results, map[string]any{"id": f.Campaign.ID, "name": f.Campaign.Name, "state": f.Campaign.State,
				"started_at": f.Campaign.StartedAt})
			variants := make([]map[string]any, len(f.Variants))
			for i, v := range f.Variants {
				body := ""
				if i < len(f.Campaign.Variants) {
					body = f.Campaign.Variants[i]
				}
				variants[i] = funnelRow(v, map[string]any{"variant": i, "body": body})
			}
			row["variants"] = variants
			t.rows = append(t.rows, row)
		}
		return t, nil, nil
	})
}

// funnelRow adds a campaign's (or a variant's) funnel to row: sent →
// delivered → replied → clicked → opted out, with each rate of the texts
// sent (null before any was).
func funnelRow(r store.VariantResult, row map[string]any) map[string]any {
	n := r.Counts
	recipients := 0
	for _, v := range n {
		recipients += v
	}
	sent := n["sent"] + n["delivered"] + n["failed"]
	row["recipients"], row["sent"], row["delivered"], row["failed"] = recipients, sent, n["delivered"], n["failed"]
	row["replied"], row["clicked"], row["opted_out"], row["segments"] = r.Replied, r.Clicked, r.OptedOut, r.Segments
	row["delivery_rate"], row["reply_rate"] = rate(n["delivered"], sent), rate(r.Replied, sent)
	row["click_rate"], row["opt_out_rate"] = rate(r.Clicked, sent), rate(r.OptedOut, sent)
	return row
}

// topicCount is how many terms each topic list shows.
const topicCount = 20

// analyticsTopics: GET /api/v1/analytics/topics — the terms and two-word
// phrases most customers' texts of the period hold, and those that grew
// most against the period of equal length before it, with examples.
func (h *Handlers) analyticsTopics(c echo.Context) error {
	return h.analyticsRun(c, "topics", func(q analyticsQuery) (table, map[string]any, error) {
		tl, err := analytics.ReadTopics(c.Request().Context(), h.reports(), q.brand.ID, q.period, topicCount)
		if err != nil {
			return table{}, nil, err
		}
		t := table{cols: []string{"list", "term", "count", "previous", "examples"}, rows: []map[string]any{}}
		for _, l := range []struct {
			name   string
			topics []analytics.Topic
		}{{"top", tl.Top}, {"rising", tl.Rising}} {
			for _, tp := range l.topics {
				t.rows = append(t.rows, map[string]any{"list": l.name, "term": tp.Term, "count": tp.Count, "previous": tp.Previous,
					"examples": tp.Examples})
			}
		}
		return t, map[string]any{"texts": tl.Texts, "previous_texts": tl.PreviousTexts, "count_error": tl.CountError}, nil
	})
}
