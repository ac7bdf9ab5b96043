package console

import (
	"strconv"

	"github.com/labstack/echo/v4"
)

// campaignPause: POST /campaigns/{id}/pause — sending stops at once.
func (h *Handlers) campaignPause(c echo.Context) error {
	cp, err := h.pathCampaign(c)
	if err != nil {
		return err
	}
	if err := h.Campaigns.Pause(c.Request().Context(), cp, "paused in the console"); err != nil {
		return h.campaignFail(c, cp, err)
	}
	return adminDone(c, "/campaigns/"+strconv.FormatInt(cp.ID, 10), "campaign_paused")
}
