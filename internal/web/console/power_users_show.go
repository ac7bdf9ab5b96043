package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/store"
)

// powerUser is one row of the ranking with its reason.
type powerUser struct {
	store.PowerUser
	Why string
}

// powerUsersShow: GET /power-users?brand=<slug> — a brand's customers
// ranked by engagement score (texts, replies to the brand, recency,
// followers), each with why; keyset pages (?after=<score>_<contact>).
func (h *Handlers) powerUsersShow(c echo.Context) error {
	return h.showPage(c, "power_users", func(c echo.Context) (map[string]any, error) {
		ctx := c.Request().Context()
		visible, err := h.Conversations.VisibleBrands(ctx, session(c).User)
		if err != nil {
			return nil, err
		}
		data := map[string]any{"Brands": visible}
		if len(visible) == 0 {
			return data, nil
		}
		slug := c.QueryParam("brand")
		if slug == "" {
			slug = visible[0].Slug
		}
		b, status, msg, err := h.brandBySlug(c, slug)
		if err != nil {
			return nil, err
		}
		if status != 0 {
			return nil, echo.NewHTTPError(status, msg)
		}
		afterScore, afterContact := -1, int64(0)
		if a := c.QueryParam("after"); a != "" {
			sc, id, ok := strings.Cut(a, "_")
			score, err1 := strconv.Atoi(sc)
			contact, err2 := strconv.ParseInt(id, 10, 64)
			if !ok || err1 != nil || err2 != nil || score < 0 {
				return nil, echo.NewHTTPError(http.StatusBadRequest, "after: a cursor from the Next link")
			}
			afterScore, afterContact = score, contact
		}
		const pageSize = 50
		ps, err := h.Store.PowerUsers(ctx, b.ID, afterScore, afterContact, pageSize+1)
		if err != nil {
			return nil, err
		}
		if len(ps) > pageSize {
			last := ps[pageSize-1]
			data["Next"] = "/power-users?brand=" + url.QueryEscape(b.Slug) + "&after=" + strconv.Itoa(last.Score) + "_" + strconv.FormatInt(last.ContactID, 10)
			ps = ps[:pageSize]
		}
		now := time.Now()
		rows := make([]powerUser, len(ps))
		for i, p := range ps {
			rows[i] = powerUser{PowerUser: p, Why: conversation.Why(p, now)}
		}
		data["Brand"], data["Users"] = b, rows
		return data, nil
	})
}
