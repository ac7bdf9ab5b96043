package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/question"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

type variantJSON struct {
	Body string `json:"body"`
}

type campaignInput struct {
	Brand      string          `json:"brand"`
	Name       string          `json:"name"`
	Body       string          `json:"body"`
	Variants   []variantJSON   `json:"variants"`
	Audience   json.RawMessage `json:"audience"`
	Numbers    []string        `json:"numbers"`
	TrackLinks bool            `json:"track_links"`
	Question   *question.Input `json:"question"`
}

type variantResultJSON struct {
	Variant  int            `json:"variant"`
	Body     string         `json:"body"`
	Counts   map[string]int `json:"counts"`
	Segments int            `json:"segments"`
	Replied  int            `json:"replied"`
	OptedOut int            `json:"opted_out"`
	Clicked  int            `json:"clicked"`
}

type campaignJSON struct {
	ID          int64               `json:"id"`
	Brand       string              `json:"brand"`
	Name        string              `json:"name"`
	State       string              `json:"state"`
	StateReason string              `json:"state_reason"`
	Body        string              `json:"body"`
	Variants    []variantJSON       `json:"variants"`
	Audience    json.RawMessage     `json:"audience"`
	Numbers     []string            `json:"numbers"`
	TrackLinks  bool                `json:"track_links"`
	ScheduledAt *time.Time          `json:"scheduled_at"`
	LocalTime   string              `json:"local_time"`
	CreatedAt   time.Time           `json:"created_at"`
	StartedAt   *time.Time          `json:"started_at"`
	CompletedAt *time.Time          `json:"completed_at"`
	Counts      map[string]int      `json:"counts,omitempty"`
	Results     []variantResultJSON `json:"results,omitempty"`
	QuestionID  int64               `json:"question_id,omitempty"`
}

func campaignOut(c store.Campaign, rs []store.VariantResult) campaignJSON {
	out := campaignJSON{ID: c.ID, Brand: c.BrandSlug, Name: c.Name, State: c.State, StateReason: c.StateReason,
		Audience: c.Audience, Numbers: c.Numbers, TrackLinks: c.TrackLinks, ScheduledAt: c.ScheduledAt, LocalTime: c.LocalTime,
		CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, CompletedAt: c.CompletedAt, QuestionID: c.QuestionID}
	for _, v := range c.Variants {
		out.Variants = append(out.Variants, variantJSON{Body: v})
	}
	if len(c.Variants) > 0 {
		out.Body = c.Variants[0]
	}
	if rs != nil {
		out.Counts = campaign.Totals(rs)
		for _, r := range rs {
			body := ""
			if r.Variant < len(c.Variants) {
				body = c.Variants[r.Variant]
			}
			out.Results = append(out.Results, variantResultJSON{Variant: r.Variant, Body: body, Counts: r.Counts, Segments: r.Segments,
				Replied: r.Replied, OptedOut: r.OptedOut, Clicked: r.Clicked})
		}
	}
	return out
}

// campaignFail answers a campaign error: a field error 400 naming the
// field, a missing campaign 404, a change its state does not allow 409.
func (h *Handlers) campaignFail(c echo.Context, err error) error {
	var fe *campaign.FieldError
	switch {
	case errors.As(err, &fe):
		return apierr.Write(c, apierr.Field("invalid_field", fe.Field, "%s: %s", fe.Field, fe.Msg))
	case errors.Is(err, campaign.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return apierr.Write(c, apierr.New("campaign_not_found", "no such campaign"))
	case errors.Is(err, campaign.ErrWrongState):
		return apierr.Write(c, apierr.New("conflict", "%v", err))
	}
	return h.internal(c, err)
}

// createCampaign: POST /api/v1/campaigns — a draft; 201 with it.
func (h *Handlers) createCampaign(c echo.Context) error {
	var in campaignInput
	if bad := decodeJSON(c, &in); bad != nil {
		return apierr.Write(c, bad)
	}
	b, bad, err := h.bodyBrand(c, in.Brand)
	if err != nil {
		return h.internal(c, err)
	}
	if bad != nil {
		return apierr.Write(c, bad)
	}
	var bodies []string
	for _, v := range in.Variants {
		bodies = append(bodies, v.Body)
	}
	cp, err := h.campaigns.Create(c.Request().Context(), b, campaign.Input{Name: in.Name, Body: in.Body, Variants: bodies,
		Audience: in.Audience, Numbers: in.Numbers, TrackLinks: in.TrackLinks, CreatedBy: "api:" + apiKey(c).Prefix, Question: in.Question})
	if err != nil {
		return h.campaignFail(c, err)
	}
	return ok(c, http.StatusCreated, campaignOut(cp, nil))
}

// listCampaigns: GET /api/v1/campaigns — newest first, keyset pages
// (?before=<id>), optionally ?brand=.
func (h *Handlers) listCampaigns(c echo.Context) error {
	q, bad, err := h.newestFirst(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	cs, err := h.st.Campaigns(c.Request().Context(), q.brands, q.before, q.limit+1)
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]campaignJSON, len(cs))
	for i, x := range cs {
		out[i] = campaignOut(x, nil)
	}
	return page(c, out, q.limit, "before", func(x campaignJSON) int64 { return x.ID })
}

// newestQuery is the query of a newest-first list of a key's brands:
// ?brand= (checked against the key; absent: every brand it may touch),
// ?before=<id>, ?limit=.
type newestQuery struct {
	brands []int64
	before int64
	limit  int
}

func (h *Handlers) newestFirst(c echo.Context) (newestQuery, *apierr.Error, error) {
	var q newestQuery
	b, bad, err := h.brandParam(c, false)
	if bad != nil || err != nil {
		return q, bad, err
	}
	q.brands = onlyBrands(c)
	if b.ID != 0 {
		if bad := brandAllowed(c, b.ID, b.Slug); bad != nil {
			return q, bad, nil
		}
		q.brands = []int64{b.ID}
	}
	if q.before, bad = idParam(c, "before", false); bad != nil {
		return q, bad, nil
	}
	q.limit, bad = limitParam(c)
	return q, bad, nil
}

// optionalJSON decodes a body that may be absent (nothing is changed in v).
func optionalJSON(c echo.Context, v any) *apierr.Error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, v)
}

// orZero is the time t points at, or the zero time.
func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// withCampaign resolves :id to a campaign of a brand the key may touch.
func (h *Handlers) withCampaign(c echo.Context, fn func(store.Campaign) error) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	cp, err := h.campaigns.Get(c.Request().Context(), id)
	if err != nil {
		return h.campaignFail(c, err)
	}
	if bad := brandAllowed(c, cp.BrandID, cp.BrandSlug); bad != nil {
		return apierr.Write(c, bad)
	}
	return fn(cp)
}

func (h *Handlers) campaignAnswer(c echo.Context, id int64, status int) error {
	cp, err := h.campaigns.Get(c.Request().Context(), id)
	if err != nil {
		return h.campaignFail(c, err)
	}
	rs, err := h.campaigns.Results(c.Request().Context(), cp)
	if err != nil {
		return h.internal(c, err)
	}
	return ok(c, status, campaignOut(cp, rs))
}

// getCampaign: GET /api/v1/campaigns/{id} — with counts per recipient
// state and results per variant.
func (h *Handlers) getCampaign(c echo.Context) error {
	return h.withCampaign(c, func(cp store.Campaign) error { return h.campaignAnswer(c, cp.ID, http.StatusOK) })
}

// estimateCampaign: POST /api/v1/campaigns/{id}/estimate {"at"} — who it
// would reach at that time (default now), its segments and exclusions.
func (h *Handlers) estimateCampaign(c echo.Context) error {
	return h.withCampaign(c, func(cp store.Campaign) error {
		var in struct {
			At *time.Time `json:"at"`
		}
		if bad := optionalJSON(c, &in); bad != nil {
			return apierr.Write(c, bad)
		}
		b, err := h.st.BrandBySlug(c.Request().Context(), cp.BrandSlug)
		if err != nil {
			return h.internal(c, err)
		}
		est, err := h.campaigns.Estimate(c.Request().Context(), b, cp, orZero(in.At))
		if err != nil {
			return h.campaignFail(c, err)
		}
		return ok(c, http.StatusOK, est)
	})
}

// scheduleCampaign: POST /api/v1/campaigns/{id}/schedule {"at", "local_time"}.
func (h *Handlers) scheduleCampaign(c echo.Context) error {
	return h.withCampaign(c, func(cp store.Campaign) error {
		var in struct {
			At        *time.Time `json:"at"`
			LocalTime string     `json:"local_time"`
		}
		if bad := optionalJSON(c, &in); bad != nil {
			return apierr.Write(c, bad)
		}
		if err := h.campaigns.Schedule(c.Request().Context(), cp, orZero(in.At), in.LocalTime); err != nil {
			return h.campaignFail(c, err)
		}
		return h.campaignAnswer(c, cp.ID, http.StatusOK)
	})
}

// campaignDo runs a state change on :id and answers with the campaign.
func (h *Handlers) campaignDo(c echo.Context, act func(store.Campaign) error) error {
	return h.withCampaign(c, func(cp store.Campaign) error {
		if err := act(cp); err != nil {
			return h.campaignFail(c, err)
		}
		return h.campaignAnswer(c, cp.ID, http.StatusOK)
	})
}

// pauseCampaign: POST /api/v1/campaigns/{id}/pause — sending stops at once.
func (h *Handlers) pauseCampaign(c echo.Context) error {
	return h.campaignDo(c, func(cp store.Campaign) error {
		return h.campaigns.Pause(c.Request().Context(), cp, "paused through the API")
	})
}

// resumeCampaign: POST /api/v1/campaigns/{id}/resume — where it stopped.
func (h *Handlers) resumeCampaign(c echo.Context) error {
	return h.campaignDo(c, func(cp store.Campaign) error { return h.campaigns.Resume(c.Request().Context(), cp) })
}

// cancelCampaign: POST /api/v1/campaigns/{id}/cancel — what has not gone
// will not.
func (h *Handlers) cancelCampaign(c echo.Context) error {
	return h.campaignDo(c, func(cp store.Campaign) error { return h.campaigns.Cancel(c.Request().Context(), cp) })
}

type recipientJSON struct {
	ContactID int64  `json:"contact_id"`
	Phone     string `json:"phone"`
	Variant   int    `json:"variant"`
	State     string `json:"state"`
	MessageID *int64 `json:"message_id"`
	Reason    string `json:"reason"`
}

// campaignRecipients: GET /api/v1/campaigns/{id}/recipients — by contact
// id, keyset pages (?after=<contact id>), ?state= filters.
func (h *Handlers) campaignRecipients(c echo.Context) error {
	return h.withCampaign(c, func(cp store.Campaign) error {
		state := c.QueryParam("state")
		if state != "" && !slices.Contains(store.RecipientStates, state) {
			return apierr.Write(c, apierr.Field("invalid_field", "state", "state must be one of %s, not %q", strings.Join(store.RecipientStates, ", "), state))
		}
		after, bad := idParam(c, "after", false)
		if bad != nil {
			return apierr.Write(c, bad)
		}
		limit, bad := limitParam(c)
		if bad != nil {
			return apierr.Write(c, bad)
		}
		rs, err := h.st.CampaignRecipients(c.Request().Context(), cp.ID, state, after, limit+1)
		if err != nil {
			return h.internal(c, err)
		}
		out := make([]recipientJSON, len(rs))
		for i, r := range rs {
			out[i] = recipientJSON(r)
		}
		return page(c, out, limit, "after", func(r recipientJSON) int64 { return r.ContactID })
	})
}

// previewCampaign: POST /api/v1/campaigns/{id}/preview {"phone" |
// "contact_id"} — the campaign's texts filled in for that person, and
// whether they would get it now.
func (h *Handlers) previewCampaign(c echo.Context) error {
	return h.withCampaign(c, func(cp store.Campaign) error {
		var in struct {
			Phone     string `json:"phone"`
			ContactID int64  `json:"contact_id"`
		}
		if bad := decodeJSON(c, &in); bad != nil {
			return apierr.Write(c, bad)
		}
		b, err := h.st.BrandBySlug(c.Request().Context(), cp.BrandSlug)
		if err != nil {
			return h.internal(c, err)
		}
		p, err := h.campaigns.Preview(c.Request().Context(), b, cp, in.Phone, in.ContactID)
		if err != nil {
			return h.campaignFail(c, err)
		}
		return ok(c, http.StatusOK, p)
	})
}

// testCampaign: POST /api/v1/campaigns/{id}/test {"phone", "variant"} —
// one variant, filled in for that phone's contact, texted to it now.
func (h *Handlers) testCampaign(c echo.Context) error {
	return h.withCampaign(c, func(cp store.Campaign) error {
		var in struct {
			Phone   string `json:"phone"`
			Variant int    `json:"variant"`
		}
		if bad := decodeJSON(c, &in); bad != nil {
			return apierr.Write(c, bad)
		}
		b, err := h.st.BrandBySlug(c.Request().Context(), cp.BrandSlug)
		if err != nil {
			return h.internal(c, err)
		}
		q, err := h.campaigns.TestSend(c.Request().Context(), b, cp, in.Phone, in.Variant)
		var fe *outbound.FieldError
		if errors.As(err, &fe) {
			return apierr.Write(c, apierr.Field(fe.Code, fe.Field, "%s", fe.Msg))
		}
		if err != nil {
			return h.campaignFail(c, err)
		}
		return ok(c, http.StatusAccepted, queuedJSON{ID: q.ID, ConversationID: q.ConversationID, Status: q.Status,
			Segments: q.Segments, Encoding: q.Encoding})
	})
}
