package console

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/store"
)

// campaignCreate: POST /campaigns — a draft from the form: brand, name,
// one to four bodies, the audience, tracked links.
func (h *Handlers) campaignCreate(c echo.Context) error {
	ctx := c.Request().Context()
	fail := func(status int, msg string) error {
		data, err := h.campaignsData(c)
		if err != nil {
			return err
		}
		data["Error"] = msg
		return h.render(c, status, "campaigns", data)
	}
	b, err := h.Store.BrandBySlug(ctx, c.FormValue("brand"))
	if errors.Is(err, store.ErrNotFound) {
		return fail(http.StatusBadRequest, "brand: choose a brand")
	}
	if err != nil {
		return err
	}
	brands, err := h.Conversations.Brands(ctx, session(c).User)
	if err != nil {
		return err
	}
	if brands != nil && !slices.Contains(brands, b.ID) {
		return fail(http.StatusForbidden, "you do not have access to that brand")
	}
	var bodies []string
	for i := 1; i <= campaign.MaxVariants; i++ {
		if v := strings.TrimSpace(c.FormValue("body" + strconv.Itoa(i))); v != "" {
			bodies = append(bodies, v)
		}
	}
	aud, err := audienceFromForm(c)
	if err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	in := campaign.Input{Name: c.FormValue("name"), Audience: aud, TrackLinks: c.FormValue("track_links") != "",
		CreatedBy: "user:" + strconv.FormatInt(session(c).User.ID, 10)}
	if len(bodies) == 1 {
		in.Body = bodies[0]
	} else {
		in.Variants = bodies
	}
	cp, err := h.Campaigns.Create(ctx, b, in)
	var fe *campaign.FieldError
	if errors.As(err, &fe) {
		return fail(http.StatusBadRequest, fe.Error())
	}
	if err != nil {
		return err
	}
	return adminDone(c, "/campaigns/"+strconv.FormatInt(cp.ID, 10), "campaign_created")
}
