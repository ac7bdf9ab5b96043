package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/store"
)

// campaignRoutes lists the marketers' pages (admins too): campaigns, their
// progress and their controls.
func (h *Handlers) campaignRoutes() []Route {
	return []Route{
		{http.MethodGet, "/campaigns", auth.Marketing, h.campaignsShow},
		{http.MethodPost, "/campaigns", auth.Marketing, h.campaignCreate},
		{http.MethodPost, "/campaigns/audience-count", auth.Marketing, h.campaignAudienceCount},
		{http.MethodGet, "/campaigns/:id", auth.Marketing, h.campaignShow},
		{http.MethodPost, "/campaigns/:id/schedule", auth.Marketing, h.campaignSchedule},
		{http.MethodPost, "/campaigns/:id/pause", auth.Marketing, h.campaignPause},
		{http.MethodPost, "/campaigns/:id/resume", auth.Marketing, h.campaignResume},
		{http.MethodPost, "/campaigns/:id/cancel", auth.Marketing, h.campaignCancel},
		{http.MethodPost, "/campaigns/:id/test", auth.Marketing, h.campaignTestSend},
	}
}

// pathCampaign resolves :id to a campaign of a brand the user may see: 404
// for an unknown one, 403 for another brand's.
func (h *Handlers) pathCampaign(c echo.Context) (store.Campaign, error) {
	id, ok := pathID(c)
	if !ok {
		return store.Campaign{}, echo.ErrNotFound
	}
	cp, err := h.Campaigns.Get(c.Request().Context(), id)
	if errors.Is(err, campaign.ErrNotFound) {
		return cp, echo.ErrNotFound
	}
	if err != nil {
		return cp, err
	}
	if ok, err := h.mayUse(c, cp.BrandID); err != nil || !ok {
		if err == nil {
			err = echo.NewHTTPError(http.StatusForbidden, "you do not have access to that brand")
		}
		return cp, err
	}
	return cp, nil
}

// campaignFail shows the campaign page again with what was wrong (400 for
// bad input, 409 for a change the campaign's state does not allow).
func (h *Handlers) campaignFail(c echo.Context, cp store.Campaign, err error) error {
	var fe *campaign.FieldError
	status := http.StatusBadRequest
	switch {
	case errors.As(err, &fe):
	case errors.Is(err, campaign.ErrWrongState):
		status = http.StatusConflict
	default:
		return err
	}
	data, lerr := h.campaignData(c, cp)
	if lerr != nil {
		return lerr
	}
	data["Error"] = err.Error()
	return h.render(c, status, "campaign", data)
}

// audienceFromForm builds the audience document from the new-campaign
// form: tiers and labels as comma lists, attribute conditions one per line
// ("city = Paris", "points >= 1000", "favorite_dish exists"), or a list of
// phones.
func audienceFromForm(c echo.Context) (json.RawMessage, error) {
	a := campaign.Audience{Tiers: commaList(c.FormValue("tiers")), Labels: commaList(c.FormValue("labels"))}
	if v := strings.TrimSpace(c.FormValue("segment_id")); v != "" && v != "0" {
		if err := json.Unmarshal([]byte(v), &a.SegmentID); err != nil {
			return nil, &campaign.FieldError{Field: "segment_id", Msg: "not a segment"}
		}
	}
	for _, line := range strings.FieldsFunc(c.FormValue("phones"), func(r rune) bool { return r == '\n' || r == ',' || r == ';' }) {
		if p := strings.TrimSpace(line); p != "" {
			a.Phones = append(a.Phones, p)
		}
	}
	for i, line := range strings.Split(c.FormValue("conditions"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, cond, err := parseCondition(line)
		if err != nil {
			return nil, &campaign.FieldError{Field: "conditions", Msg: "line " + itoa(i+1) + ": " + err.Error()}
		}
		if a.Attributes == nil {
			a.Attributes = map[string]campaign.AttrCondition{}
		}
		merged := a.Attributes[key]
		mergeCondition(&merged, cond)
		a.Attributes[key] = merged
	}
	return json.Marshal(a)
}

func commaList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mayUse says whether the signed-in user may see brand id (admins and
// users of every brand: always).
func (h *Handlers) mayUse(c echo.Context, id int64) (bool, error) {
	brands, err := h.Conversations.Brands(c.Request().Context(), session(c).User)
	return brands == nil || slices.Contains(brands, id), err
}

// formBrand resolves a form's brand field to a brand the user may use. A
// status other than 0 is a refusal to show with msg: 400 for no or an
// unknown brand, 403 for another brand's.
func (h *Handlers) formBrand(c echo.Context) (b store.Brand, status int, msg string, err error) {
	return h.brandBySlug(c, c.FormValue("brand"))
}

// brandBySlug is the brand named slug if the user may use it (status and
// msg say why not).
func (h *Handlers) brandBySlug(c echo.Context, slug string) (b store.Brand, status int, msg string, err error) {
	b, err = h.Store.BrandBySlug(c.Request().Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return b, http.StatusBadRequest, "brand: choose a brand", nil
	}
	if err != nil {
		return b, 0, "", err
	}
	ok, err := h.mayUse(c, b.ID)
	if err == nil && !ok {
		return b, http.StatusForbidden, "you do not have access to that brand", nil
	}
	return b, 0, "", err
}
