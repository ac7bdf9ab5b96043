package console

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/store"
)

// campaignShow: GET /campaigns/{id} — state, progress per recipient state
// and per variant (refreshed live while it runs), the estimate of a draft,
// and the controls its state allows.
func (h *Handlers) campaignShow(c echo.Context) error {
	cp, err := h.pathCampaign(c)
	if err != nil {
		return err
	}
	data, err := h.campaignData(c, cp)
	if err != nil {
		return err
	}
	return h.render(c, 200, "campaign", data)
}

func (h *Handlers) campaignData(c echo.Context, cp store.Campaign) (map[string]any, error) {
	ctx := c.Request().Context()
	rs, err := h.Campaigns.Results(ctx, cp)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"Campaign": cp, "Results": rs, "Totals": campaign.Totals(rs), "States": store.RecipientStates,
		"Live": "campaign", "Running": cp.State == "running" || cp.State == "scheduled"}
	if cp.State == "draft" {
		b, err := h.Store.BrandBySlug(ctx, cp.BrandSlug)
		if err != nil {
			return nil, err
		}
		est, err := h.Campaigns.Estimate(ctx, b, cp, time.Time{})
		if err != nil {
			data["EstimateError"] = err.Error()
		} else {
			data["Estimate"] = est
		}
	}
	return data, nil
}
