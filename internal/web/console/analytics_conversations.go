package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
)

// analyticsConversationsPage is how many conversations a page lists.
const analyticsConversationsPage = 50

// analyticsConversations: GET /analytics/conversations?brand=&day=YYYY-MM-DD[&after=<id>]
// — the conversations active on one local day of the brand (opened by
// then, a text that day), where a chart's point leads; pages of 50 by id.
// Each links to the conversation for those who may open it.
func (h *Handlers) analyticsConversations(c echo.Context) error {
	return h.showPage(c, "analytics_conversations", func(c echo.Context) (map[string]any, error) {
		day := c.QueryParam("day")
		if day == "" {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "day: a date YYYY-MM-DD")
		}
		q, err := h.analyticsQueryOf(c, url.Values{"brand": {c.QueryParam("brand")}, "from": {day}, "to": {day}})
		if err != nil {
			return nil, err
		}
		var after int64
		if a := c.QueryParam("after"); a != "" {
			if after, err = strconv.ParseInt(a, 10, 64); err != nil || after < 0 {
				return nil, echo.NewHTTPError(http.StatusBadRequest, "after: an id from the Next link")
			}
		}
		rows, err := h.reports().AnalyticsConversations(c.Request().Context(), q.brand.ID, q.period.Start, q.period.End, after, analyticsConversationsPage+1)
		if err != nil {
			return nil, err
		}
		data := map[string]any{"Brand": q.brand, "Day": q.from, "Back": "/analytics?" + q.query("from", q.period.Start.AddDate(0, 0, -6).Format(time.DateOnly)),
			"LinkConversations": auth.Can(session(c).User.Role, auth.Inbox)}
		if len(rows) > analyticsConversationsPage {
			rows = rows[:analyticsConversationsPage]
			data["Next"] = "/analytics/conversations?" + url.Values{"brand": {q.brand.Slug}, "day": {q.from},
				"after": {strconv.FormatInt(rows[len(rows)-1].ID, 10)}}.Encode()
		}
		data["Rows"] = rows
		return data, nil
	})
}

// analyticsMessage: GET /analytics/messages/:id — a topic's example text
// opens its conversation (for those who may open conversations, and only
// of a brand they may see).
func (h *Handlers) analyticsMessage(c echo.Context) error {
	id, ok := pathID(c)
	if !ok {
		return echo.ErrNotFound
	}
	m, err := h.Store.MessageByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.ConversationID == 0) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if ok, err := h.mayUse(c, m.BrandID); err != nil || !ok {
		if err == nil {
			err = echo.NewHTTPError(http.StatusForbidden, "you do not have access to that brand")
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+strconv.FormatInt(m.ConversationID, 10))
}
