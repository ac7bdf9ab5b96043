package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/trigger"
	"github.com/parleyhq/parley/internal/web/apierr"
)

type eventResultJSON struct {
	ID        int64         `json:"id,omitempty"`
	Matched   int           `json:"matched_triggers"`
	Duplicate bool          `json:"duplicate"`
	Error     *apierr.Error `json:"error,omitempty"`
}

// eventBrand is the brand an event is for: the one named, else the key's
// only brand (or the only brand there is).
func (h *Handlers) eventBrand(c echo.Context, slug string) (store.Brand, *apierr.Error, error) {
	ctx := c.Request().Context()
	slug = strings.TrimSpace(slug)
	if slug == "" {
		all, err := h.st.Brands(ctx)
		if err != nil {
			return store.Brand{}, nil, err
		}
		var mine []store.Brand
		for _, b := range all {
			if auth.KeyHasBrand(apiKey(c).KeyAccess, b.ID) {
				mine = append(mine, b)
			}
		}
		if len(mine) != 1 {
			return store.Brand{}, apierr.Field("missing_field", "brand", "this key may post events for several brands: give the brand's slug"), nil
		}
		slug = mine[0].Slug
	}
	return h.bodyBrand(c, slug)
}

func eventError(err error) *apierr.Error {
	var fe *trigger.FieldError
	switch {
	case errors.As(err, &fe):
		code := "invalid_field"
		if strings.HasPrefix(fe.Msg, "give ") || strings.HasPrefix(fe.Msg, "name the customer") {
			code = "missing_field"
		}
		if fe.Field == "phone" {
			code = "invalid_phone"
		}
		return apierr.Field(code, fe.Field, "%s: %s", fe.Field, fe.Msg)
	case errors.Is(err, trigger.ErrContactNotFound):
		return apierr.New("contact_not_found", "no contact matches; send \"create_contact\": true with a phone to create one")
	}
	return nil
}

// postEvent: POST /api/v1/events — 202 {"id", "matched_triggers",
// "duplicate"}. The same idempotency_key (or Idempotency-Key header) twice
// is one event.
func (h *Handlers) postEvent(c echo.Context) error {
	var in trigger.EventInput
	if bad := decodeJSON(c, &in); bad != nil {
		return apierr.Write(c, bad)
	}
	if in.Key == "" {
		in.Key = strings.TrimSpace(c.Request().Header.Get("Idempotency-Key"))
	}
	b, bad, err := h.eventBrand(c, in.Brand)
	if err != nil {
		return h.internal(c, err)
	}
	if bad != nil {
		return apierr.Write(c, bad)
	}
	res, err := h.triggers.Ingest(c.Request().Context(), b, []trigger.EventInput{in})
	if err != nil {
		return h.internal(c, err)
	}
	if e := eventError(res[0].Err); e != nil {
		return apierr.Write(c, e)
	}
	if res[0].Err != nil {
		return h.internal(c, res[0].Err)
	}
	return ok(c, http.StatusAccepted, eventResultJSON{ID: res[0].ID, Matched: res[0].Matched, Duplicate: res[0].Duplicate})
}

// postEvents: POST /api/v1/events:batch {"brand", "events": [...]} — up to
// 1,000 events, 202 with one answer per event in order; an event's error
// is its own.
func (h *Handlers) postEvents(c echo.Context) error {
	var in struct {
		Brand  string               `json:"brand"`
		Events []trigger.EventInput `json:"events"`
	}
	if bad := decodeJSON(c, &in); bad != nil {
		return apierr.Write(c, bad)
	}
	switch {
	case in.Events == nil:
		return apierr.Write(c, apierr.Field("missing_field", "events", "give the events as a list"))
	case len(in.Events) > trigger.MaxBatch:
		return apierr.Write(c, apierr.Field("invalid_field", "events", "at most %d events a request, got %d", trigger.MaxBatch, len(in.Events)))
	}
	b, bad, err := h.eventBrand(c, in.Brand)
	if err != nil {
		return h.internal(c, err)
	}
	if bad != nil {
		return apierr.Write(c, bad)
	}
	// An event naming another brand than the batch's is refused on its own.
	var wrong []int
	for i, e := range in.Events {
		if e.Brand != "" && e.Brand != b.Slug {
			wrong = append(wrong, i)
			in.Events[i].Type = "" // judged as invalid below; stores nothing
		}
	}
	res, err := h.triggers.Ingest(c.Request().Context(), b, in.Events)
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]eventResultJSON, len(res))
	accepted := 0
	for _, i := range wrong {
		res[i].Err = &trigger.FieldError{Field: "brand", Msg: "an event of a batch is for the batch's brand " + b.Slug}
	}
	for i, r := range res {
		if r.Err != nil {
			e := eventError(r.Err)
			if e == nil {
				return h.internal(c, r.Err)
			}
			out[i] = eventResultJSON{Error: e}
			continue
		}
		accepted++
		out[i] = eventResultJSON{ID: r.ID, Matched: r.Matched, Duplicate: r.Duplicate}
	}
	return c.JSON(http.StatusAccepted, map[string]any{"data": out, "accepted": accepted, "rejected": len(res) - accepted})
}
