package console

import (
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/routing"
	"github.com/parleyhq/parley/internal/store"
)

// adminRoutingShow: GET /admin/routing?brand=SLUG — a brand's business
// hours, holidays, after-hours acknowledgement, assignment and limits, and
// its keyword auto-replies in the order they are tried, with the forms
// that change them (the first brand when none is named).
func (h *Handlers) adminRoutingShow(c echo.Context) error {
	return h.showPage(c, "admin_routing", h.adminRoutingData)
}

// dayRow is one day of the schedule form.
type dayRow struct {
	Key, Name, Hours string
}

var dayNames = map[string]string{"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
	"fri": "Friday", "sat": "Saturday", "sun": "Sunday"}

func (h *Handlers) adminRoutingData(c echo.Context) (map[string]any, error) {
	ctx := c.Request().Context()
	brands, err := h.Store.Brands(ctx)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"Brands": brands, "Matches": routing.Matches, "Assignments": routing.Assignments}
	if len(brands) == 0 {
		return data, nil
	}
	slug := c.Param("slug")
	if slug == "" {
		slug = c.QueryParam("brand")
	}
	b := brands[0]
	if slug != "" {
		if b, err = h.Store.BrandBySlug(ctx, slug); errors.Is(err, store.ErrNotFound) {
			return nil, echo.ErrNotFound
		} else if err != nil {
			return nil, err
		}
	}
	doc, err := h.Automation.Settings(ctx, b)
	if err != nil {
		return nil, err
	}
	rules, err := h.Automation.Rules(ctx, b.ID, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	days := make([]dayRow, len(routing.Days))
	for i, d := range routing.Days {
		days[i] = dayRow{Key: d, Name: dayNames[d], Hours: formatIntervals(doc.BusinessHours[d])}
	}
	var holidays []string
	for _, hol := range doc.Holidays {
		line := hol.Date + " " + formatIntervals(hol.Hours)
		if len(hol.Hours) == 0 {
			line = hol.Date + " closed"
		}
		if hol.Name != "" {
			line += " " + hol.Name
		}
		holidays = append(holidays, line)
	}
	var tiers []string
	for tier, rank := range doc.TierPriority {
		tiers = append(tiers, tier+"="+itoa(rank))
	}
	data["Brand"] = b
	data["Doc"] = doc
	data["HasHours"] = doc.BusinessHours != nil
	data["Days"] = days
	data["Holidays"] = strings.Join(holidays, "\n")
	data["Tiers"] = strings.Join(tiers, ", ")
	data["Rules"] = rules
	return data, nil
}

// formatIntervals writes [["09:00","12:00"],["14:00","18:00"]] as
// "09:00-12:00, 14:00-18:00".
func formatIntervals(ivs [][]string) string {
	parts := make([]string, 0, len(ivs))
	for _, iv := range ivs {
		if len(iv) == 2 {
			parts = append(parts, iv[0]+"-"+iv[1])
		}
	}
	return strings.Join(parts, ", ")
}
