package console

import (
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/outbound"
)

// campaignTestSend: POST /campaigns/{id}/test — one variant, filled in for
// the phone's contact, texted to that (opted-in) phone now.
func (h *Handlers) campaignTestSend(c echo.Context) error {
	cp, err := h.pathCampaign(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	b, err := h.Store.BrandBySlug(ctx, cp.BrandSlug)
	if err != nil {
		return err
	}
	v, _ := strconv.Atoi(c.FormValue("variant"))
	_, err = h.Campaigns.TestSend(ctx, b, cp, c.FormValue("phone"), v)
	var ofe *outbound.FieldError
	if errors.As(err, &ofe) {
		err = &campaign.FieldError{Field: ofe.Field, Msg: ofe.Msg}
	}
	if err != nil {
		return h.campaignFail(c, cp, err)
	}
	return adminDone(c, "/campaigns/"+strconv.FormatInt(cp.ID, 10), "campaign_test_sent")
}
