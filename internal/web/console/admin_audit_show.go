package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/audit"
)

// auditPage is how many entries the page shows at once.
const auditPage = 100

// auditRow is an entry as the page lists it.
type auditRow struct {
	ID                                           int64
	When, Actor, Kind, Action, Target, IP, ReqID string
	Status                                       int
	Change                                       string // before → after, or the detail
}

// adminAuditShow: GET /admin/audit — who did what, newest first, filtered
// by actor, action and time (?actor=&action=&since=&until=), ?before=ID
// pages on; a CSV of the same filter downloads from the page.
func (h *Handlers) adminAuditShow(c echo.Context) error {
	data := map[string]any{"Actor": c.QueryParam("actor"), "Action": c.QueryParam("action"),
		"Since": c.QueryParam("since"), "Until": c.QueryParam("until")}
	f, err := h.auditFilter(c)
	var fe *audit.FieldError
	if errors.As(err, &fe) {
		data["Error"] = fe.Error()
		return h.render(c, http.StatusBadRequest, "admin_audit", data)
	}
	if err != nil {
		return err
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	es, err := h.Store.AuditEntries(c.Request().Context(), f, max(before, 0), auditPage+1)
	if err != nil {
		return err
	}
	q := c.Request().URL.Query()
	q.Del("before")
	if len(es) > auditPage {
		es = es[:auditPage]
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
		data["Next"] = "/admin/audit?" + next.Encode()
	}
	rows := make([]auditRow, len(es))
	for i, e := range es {
		change := string(e.Detail)
		if len(e.Before) > 0 || len(e.After) > 0 {
			change = orDash(string(e.Before)) + " → " + orDash(string(e.After))
		} else if change == "{}" {
			change = ""
		}
		rows[i] = auditRow{ID: e.ID, When: e.At.UTC().Format(time.DateTime + " UTC"), Actor: e.Actor, Kind: e.ActorType,
			Action: e.Action, Target: e.Target, IP: e.IP, ReqID: e.RequestID, Status: e.Status, Change: change}
	}
	data["Entries"], data["CSV"] = rows, "/admin/audit.csv?"+q.Encode()
	return h.render(c, http.StatusOK, "admin_audit", data)
}
