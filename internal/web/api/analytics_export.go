package api

import (
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/web/apierr"
	"github.com/parleyhq/parley/internal/web/download"
)

// conversationPage is how many conversations one query of the export reads.
const conversationPage = 1000

// analyticsConversations: GET /api/v1/analytics/conversations.csv — one CSV
// row per conversation active in the period (opened before its end, a
// text since its start), streamed in id order a page at a time.
func (h *Handlers) analyticsConversations(c echo.Context) error {
	q, bad, err := h.analyticsParams(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	start := time.Now()
	ctx := c.Request().Context()
	dw := download.New(c.Response(), csvType, download.Filename("conversations", q.brand.Slug, start))
	cw := csv.NewWriter(dw)
	_ = cw.Write([]string{"id", "contact_id", "contact", "phone", "status", "assignee", "created_at", "first_inbound_at",
		"first_response_seconds", "closed_at", "messages_in", "messages_out", "labels"})
	var after, n int64
	for {
		rows, err := h.reports().AnalyticsConversations(ctx, q.brand.ID, q.period.Start, q.period.End, after, conversationPage)
		if err != nil {
			return h.exportDone(c, dw, "conversations", q.brand, n, start, err)
		}
		for _, r := range rows {
			first := ""
			if r.FirstInbound != nil && r.FirstReply != nil {
				first = strconv.FormatInt(int64(r.FirstReply.Sub(*r.FirstInbound).Seconds()), 10)
			}
			_ = cw.Write(analyticsSafe([]string{strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.ContactID, 10), r.Contact, r.Phone, r.Status,
				r.Assignee, cell(r.CreatedAt), cell(r.FirstInbound), first, cell(r.ClosedAt), strconv.Itoa(r.MessagesIn),
				strconv.Itoa(r.MessagesOut), strings.Join(r.Labels, ";")}))
			after = r.ID
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return h.exportDone(c, dw, "conversations", q.brand, n, start, err)
		}
		if err := dw.Flush(); err != nil {
			return h.exportDone(c, dw, "conversations", q.brand, n, start, err)
		}
		if len(rows) < conversationPage {
			return h.exportDone(c, dw, "conversations", q.brand, n, start, nil)
		}
	}
}
