package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
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
	b, status, msg, err := h.formBrand(c)
	if err != nil {
		return err
	}
	if status != 0 {
		return fail(status, msg)
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
