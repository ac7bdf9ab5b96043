package console

import (
	"strconv"

	"github.com/labstack/echo/v4"
)

// campaignResume: POST /campaigns/{id}/resume — it goes on where it stopped.
func (h *Handlers) campaignResume(c echo.Context) error {
	cp, err := h.pathCampaign(c)
	if err != nil {
		return err
	}
	if err := h.Campaigns.Resume(c.Request().Context(), cp); err != nil {
		return h.campaignFail(c, cp, err)
	}
	return adminDone(c, "/campaigns/"+strconv.FormatInt(cp.ID, 10), "campaign_resumed")
}
