package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
)

// campaignAudienceCount: POST /campaigns/audience-count — how many people
// the new-campaign form's audience reaches now, and why the others are
// left out: the live count the form shows while it is edited (JSON).
func (h *Handlers) campaignAudienceCount(c echo.Context) error {
	ctx := c.Request().Context()
	b, status, msg, err := h.formBrand(c)
	if err != nil {
		return err
	}
	if status != 0 {
		return c.JSON(status, map[string]string{"error": msg})
	}
	aud, err := audienceFromForm(c)
	var fe *campaign.FieldError
	if err == nil {
		var n campaign.Count
		if n, err = h.Campaigns.CountAudience(ctx, b, aud); err == nil {
			return c.JSON(http.StatusOK, n)
		}
	}
	if errors.As(err, &fe) {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": fe.Error()})
	}
	return err
}
