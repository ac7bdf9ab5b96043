package console

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/routing"
)

// adminRoutingUpdate: POST /admin/routing/:slug/settings — the settings
// form: business hours per day ("09:00-12:00, 14:00-18:00"; the schedule
// off means always open), holidays one per line ("2026-12-25 closed
// Christmas", "2026-12-24 09:00-13:00 Christmas Eve"), the after-hours
// acknowledgement, targets and limits in minutes, assignment and tier
// priorities ("gold=2, silver=1"). The same rules as the API's PUT apply.
func (h *Handlers) adminRoutingUpdate(c echo.Context) error {
	b, err := h.Store.BrandBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return echo.ErrNotFound
	}
	before, err := h.Automation.Settings(c.Request().Context(), b)
	if err != nil {
		return err
	}
	body, err := settingsForm(c)
	var after routing.Doc
	if err == nil {
		var raw []byte
		if raw, err = json.Marshal(body); err == nil {
			after, err = h.Automation.PutSettings(c.Request().Context(), b, raw)
		}
	}
	if err != nil {
		return h.adminFail(c, "admin_routing", h.adminRoutingData, err)
	}
	auditChange(c, before, after)
	return adminDone(c, "/admin/routing?brand="+b.Slug, "settings_saved")
}

// settingsForm turns the form into the API's settings document.
func settingsForm(c echo.Context) (map[string]any, error) {
	doc := map[string]any{
		"timezone":           strings.TrimSpace(c.FormValue("timezone")),
		"after_hours_reply":  c.FormValue("after_hours_reply"),
		"assignment":         c.FormValue("assignment"),
		"sla_business_hours": c.FormValue("sla_business_hours") == "1",
		"business_hours":     nil,
		"holidays":           []map[string]any{},
		"tier_priority":      map[string]int{},
		"opt_in_keyword":     strings.TrimSpace(c.FormValue("opt_in_keyword")),
	}
	for field, name := range map[string]string{"first_response_sla_seconds": "first_response_minutes",
		"next_response_sla_seconds": "next_response_minutes", "reassign_after_seconds": "reassign_after_minutes",
		"auto_close_after_seconds": "auto_close_after_minutes", "auto_reply_limit_per_hour": "auto_reply_limit_per_hour"} {
		v := strings.TrimSpace(c.FormValue(name))
		if v == "" {
			delete(doc, field) // left blank: keeps its value
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, &routing.FieldError{Field: name, Msg: "must be a whole number, not " + strconv.Quote(v)}
		}
		if strings.HasSuffix(name, "_minutes") {
			n *= 60
		}
		doc[field] = n
	}
	if c.FormValue("has_hours") == "1" {
		week := map[string][][]string{}
		for _, d := range routing.Days {
			week[d] = intervalsText(c.FormValue("hours_" + d))
		}
		doc["business_hours"] = week
	}
	var holidays []map[string]any
	for _, line := range strings.Split(c.FormValue("holidays"), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		hol := map[string]any{"date": fields[0], "hours": [][]string{}}
		var name []string
		for _, f := range fields[1:] {
			switch {
			case strings.EqualFold(f, "closed"):
			case len(name) == 0 && strings.Contains(f, ":") && strings.Contains(f, "-"):
				hol["hours"] = append(hol["hours"].([][]string), intervalsText(strings.TrimSuffix(f, ","))...)
			default:
				name = append(name, f)
			}
		}
		hol["name"] = strings.Join(name, " ")
		holidays = append(holidays, hol)
	}
	if holidays != nil {
		doc["holidays"] = holidays
	}
	tiers := map[string]int{}
	for _, pair := range strings.Split(c.FormValue("tier_priority"), ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil, &routing.FieldError{Field: "tier_priority", Msg: strconv.Quote(strings.TrimSpace(pair)) + " is not tier=number"}
		}
		tiers[strings.TrimSpace(k)] = n
	}
	doc["tier_priority"] = tiers
	return doc, nil
}

// intervalsText reads "09:00-12:00, 14:00-18:00"; a piece that is no
// interval is passed on whole so that validation names it.
func intervalsText(s string) [][]string {
	out := [][]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			out = append(out, []string{part})
			continue
		}
		out = append(out, []string{strings.TrimSpace(from), strings.TrimSpace(to)})
	}
	return out
}
