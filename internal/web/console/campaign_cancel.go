package console

import (
	"strconv"

	"github.com/labstack/echo/v4"
)

// campaignCancel: POST /campaigns/{id}/cancel — what has not gone will not.
func (h *Handlers) campaignCancel(c echo.Context) error {
	cp, err := h.pathCampaign(c)
	if err != nil {
		return err
	}
	if err := h.Campaigns.Cancel(c.Request().Context(), cp); err != nil {
		return h.campaignFail(c, cp, err)
	}
	return adminDone(c, "/campaigns/"+strconv.FormatInt(cp.ID, 10), "campaign_canceled")
}
