package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

type segmentJSON struct {
	ID        int64           `json:"id"`
	Brand     string          `json:"brand"`
	Name      string          `json:"name"`
	Filter    json.RawMessage `json:"filter"`
	CreatedAt time.Time       `json:"created_at"`
	Count     *campaign.Count `json:"count,omitempty"`
}

func segmentOut(g store.Segment) segmentJSON {
	return segmentJSON{ID: g.ID, Brand: g.BrandSlug, Name: g.Name, Filter: g.Filter, CreatedAt: g.CreatedAt}
}

// createSegment: POST /api/v1/segments {"brand", "name", "filter"} — 201
// with the segment and how many it reaches now.
func (h *Handlers) createSegment(c echo.Context) error {
	var in struct {
		Brand  string          `json:"brand"`
		Name   string          `json:"name"`
		Filter json.RawMessage `json:"filter"`
	}
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
	ctx := c.Request().Context()
	g, err := h.campaigns.CreateSegment(ctx, b, campaign.SegmentInput{Name: in.Name, Filter: in.Filter})
	if err != nil {
		return h.campaignFail(c, err)
	}
	out := segmentOut(g)
	n, err := h.campaigns.CountAudience(ctx, b, g.Filter)
	if err != nil {
		return h.internal(c, err)
	}
	out.Count = &n
	return ok(c, http.StatusCreated, out)
}

// listSegments: GET /api/v1/segments — newest first, ?before=<id>, ?brand=.
func (h *Handlers) listSegments(c echo.Context) error {
	q, bad, err := h.newestFirst(c)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	gs, err := h.st.Segments(c.Request().Context(), q.brands, q.before, q.limit+1)
	if err != nil {
		return h.internal(c, err)
	}
	out := make([]segmentJSON, len(gs))
	for i, g := range gs {
		out[i] = segmentOut(g)
	}
	return page(c, out, q.limit, "before", func(g segmentJSON) int64 { return g.ID })
}

// getSegment: GET /api/v1/segments/{id} — with how many it reaches now
// (evaluated on each request, as a campaign does when it starts).
func (h *Handlers) getSegment(c echo.Context) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	ctx := c.Request().Context()
	g, err := h.st.SegmentByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.Write(c, apierr.New("segment_not_found", "no such segment"))
	}
	if err != nil {
		return h.internal(c, err)
	}
	if bad := brandAllowed(c, g.BrandID, g.BrandSlug); bad != nil {
		return apierr.Write(c, bad)
	}
	b, err := h.st.BrandBySlug(ctx, g.BrandSlug)
	if err != nil {
		return h.internal(c, err)
	}
	out := segmentOut(g)
	n, err := h.campaigns.CountAudience(ctx, b, g.Filter)
	if err != nil {
		return h.campaignFail(c, err)
	}
	out.Count = &n
	return ok(c, http.StatusOK, out)
}
