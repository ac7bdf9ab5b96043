package console

import (
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
)

// campaignSchedule: POST /campaigns/{id}/schedule — now, at a time (in the
// brand's zone), or at a local time of each recipient's day.
func (h *Handlers) campaignSchedule(c echo.Context) error {
	cp, err := h.pathCampaign(c)
	if err != nil {
		return err
	}
	var at time.Time
	if v := strings.TrimSpace(c.FormValue("at")); v != "" {
		b, err := h.Store.BrandBySlug(c.Request().Context(), cp.BrandSlug)
		if err != nil {
			return err
		}
		loc, err := time.LoadLocation(b.Timezone)
		if err != nil {
			loc = time.UTC
		}
		if at, err = time.ParseInLocation("2006-01-02T15:04", v, loc); err != nil {
			return h.campaignFail(c, cp, &campaign.FieldError{Field: "at", Msg: strconv.Quote(v) + " is not a date and time"})
		}
	}
	if err := h.Campaigns.Schedule(c.Request().Context(), cp, at, strings.TrimSpace(c.FormValue("local_time"))); err != nil {
		return h.campaignFail(c, cp, err)
	}
	return adminDone(c, "/campaigns/"+strconv.FormatInt(cp.ID, 10), "campaign_scheduled")
}
