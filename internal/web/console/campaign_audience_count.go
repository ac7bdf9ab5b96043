package console

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/store"
)

// campaignAudienceCount: POST /campaigns/audience-count — how many people
// the new-campaign form's audience reaches now, and why the others are
// left out: the live count the form shows while it is edited (JSON).
func (h *Handlers) campaignAudienceCount(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := h.Store.BrandBySlug(ctx, c.FormValue("brand"))
	if errors.Is(err, store.ErrNotFound) {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "brand: choose a brand"})
	}
	if err != nil {
		return err
	}
	brands, err := h.Conversations.Brands(ctx, session(c).User)
	if err != nil {
		return err
	}
	if brands != nil && !slices.Contains(brands, b.ID) {
		return c.JSON(http.StatusForbidden, map[string]string{"error": "you do not have access to that brand"})
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
