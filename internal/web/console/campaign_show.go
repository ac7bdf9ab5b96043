package console

import (
	"errors"
	"strconv"
	"strings"
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
	if who := strings.TrimSpace(c.QueryParam("preview")); who != "" {
		data["PreviewFor"] = who
		if err := h.preview(c, cp, who, data); err != nil {
			return err
		}
	}
	return h.render(c, 200, "campaign", data)
}

// preview fills the campaign in for who (a phone, or a contact id) into
// data: Preview, or PreviewError for a phone or id that names nobody.
func (h *Handlers) preview(c echo.Context, cp store.Campaign, who string, data map[string]any) error {
	ctx := c.Request().Context()
	b, err := h.Store.BrandBySlug(ctx, cp.BrandSlug)
	if err != nil {
		return err
	}
	phone, id := who, int64(0)
	if n, err := strconv.ParseInt(who, 10, 64); err == nil && n > 0 && len(who) < 10 {
		phone, id = "", n // a short number is a contact id; a phone has at least 10 digits
	}
	p, err := h.Campaigns.Preview(ctx, b, cp, phone, id)
	var fe *campaign.FieldError
	switch {
	case errors.As(err, &fe):
		data["PreviewError"] = fe.Error()
	case err != nil:
		return err
	default:
		data["Preview"] = p
	}
	return nil
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
