package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/routing"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// pathBrand resolves :slug and checks the key may touch it.
func (h *Handlers) pathBrand(c echo.Context) (store.Brand, *apierr.Error, error) {
	slug := c.Param("slug")
	b, err := h.st.BrandBySlug(c.Request().Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return b, apierr.Field("brand_not_found", "slug", "no brand has the slug %q", slug), nil
	}
	if err != nil {
		return b, nil, err
	}
	return b, brandAllowed(c, b.ID, b.Slug), nil
}

// inBrand resolves :slug (404 brand_not_found, 403 forbidden for a key
// without the brand) and, with withID, :id, then runs fn.
func (h *Handlers) inBrand(c echo.Context, withID bool, fn func(b store.Brand, id int64) error) error {
	b, bad, err := h.pathBrand(c)
	if err != nil {
		return h.internal(c, err)
	}
	if bad != nil {
		return apierr.Write(c, bad)
	}
	var id int64
	if withID {
		var e *apierr.Error
		if id, e = idParam(c, "id", true); e != nil {
			return apierr.Write(c, e)
		}
	}
	return fn(b, id)
}

// routingFail answers a routing or automation error: a FieldError is 400
// naming the field, a missing rule 404, too many rules 409.
func (h *Handlers) routingFail(c echo.Context, err error) error {
	var fe *routing.FieldError
	switch {
	case errors.As(err, &fe):
		return apierr.Write(c, apierr.Field("invalid_field", fe.Field, "%s: %s", fe.Field, fe.Msg))
	case errors.Is(err, store.ErrNotFound):
		return apierr.Write(c, apierr.New("not_found", "the brand has no such auto-reply"))
	case errors.Is(err, automation.ErrTooManyRules):
		return apierr.Write(c, apierr.New("conflict", "%v", err))
	}
	return h.internal(c, err)
}

// getSettings: GET /api/v1/brands/{slug}/settings — exactly the fields PUT
// accepts, so a GET's data can be sent back with one field changed.
func (h *Handlers) getSettings(c echo.Context) error {
	return h.inBrand(c, false, func(b store.Brand, _ int64) error {
		doc, err := h.automation.Settings(c.Request().Context(), b)
		if err != nil {
			return h.internal(c, err)
		}
		return ok(c, http.StatusOK, doc)
	})
}

// putSettings: PUT /api/v1/brands/{slug}/settings — the fields given replace
// the stored ones, a field left out keeps its value; an invalid value is 400
// naming it and nothing changes.
func (h *Handlers) putSettings(c echo.Context) error {
	return h.inBrand(c, false, func(b store.Brand, _ int64) error {
		body, e := readJSONBody(c)
		if e != nil {
			return apierr.Write(c, e)
		}
		doc, err := h.automation.PutSettings(c.Request().Context(), b, body)
		if err != nil {
			return h.routingFail(c, err)
		}
		return ok(c, http.StatusOK, doc)
	})
}

// readJSONBody reads a JSON body whole (up to maxBody) for handlers that
// decode it field by field.
func readJSONBody(c echo.Context) ([]byte, *apierr.Error) {
	r := c.Request()
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
		return nil, apierr.New("unsupported_media", "send the body as Content-Type: application/json, not %q", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxBody))
	if err != nil {
		return nil, jsonError(err, maxBody)
	}
	if strings.TrimSpace(string(body)) == "" {
		return nil, apierr.New("invalid_request", "the body is empty; send a JSON object")
	}
	if bad := nulField(body); bad != nil {
		return nil, bad
	}
	return body, nil
}

// autoReplyJSON is an auto-reply as the API shows and takes it.
type autoReplyJSON struct {
	ID          int64  `json:"id"`
	Position    int    `json:"position"`
	Match       string `json:"match"`
	Pattern     string `json:"pattern"`
	Reply       string `json:"reply"`
	HandToAgent bool   `json:"hand_to_agent"`
}

func toAutoReplyJSON(a store.AutoReply) autoReplyJSON {
	return autoReplyJSON{ID: a.ID, Position: a.Position, Match: a.Match, Pattern: a.Pattern, Reply: a.Reply, HandToAgent: a.HandToAgent}
}

// autoReplyBody reads a rule from the body; an id in it is ignored (the
// path names the rule), so a listed rule can be sent back as it is.
func autoReplyBody(c echo.Context) (automation.Rule, *apierr.Error) {
	var body autoReplyJSON
	if e := decodeJSON(c, &body); e != nil {
		return automation.Rule{}, e
	}
	return automation.Rule{Position: body.Position, Match: body.Match, Pattern: body.Pattern, Reply: body.Reply, HandToAgent: body.HandToAgent}, nil
}

// listAutoReplies: GET /api/v1/brands/{slug}/auto-replies — in the order
// they are tried (position, then id), keyset-paginated with ?after=<id of
// the last rule of the previous page>.
func (h *Handlers) listAutoReplies(c echo.Context) error {
	return h.inBrand(c, false, func(b store.Brand, _ int64) error {
		limit, e := limitParam(c)
		if e != nil {
			return apierr.Write(c, e)
		}
		after, e := idParam(c, "after", false)
		if e != nil {
			return apierr.Write(c, e)
		}
		ctx := c.Request().Context()
		var afterPos int
		if after != 0 {
			last, err := h.automation.Rule(ctx, b.ID, after)
			if errors.Is(err, store.ErrNotFound) {
				return apierr.Write(c, apierr.Field("invalid_field", "after", "the brand has no auto-reply %d to list after", after))
			}
			if err != nil {
				return h.internal(c, err)
			}
			afterPos = last.Position
		}
		rules, err := h.automation.Rules(ctx, b.ID, afterPos, after, limit+1)
		if err != nil {
			return h.internal(c, err)
		}
		out := make([]autoReplyJSON, len(rules))
		for i, r := range rules {
			out[i] = toAutoReplyJSON(r)
		}
		return page(c, out, limit, "after", func(r autoReplyJSON) int64 { return r.ID })
	})
}

// createAutoReply: POST /api/v1/brands/{slug}/auto-replies — 201 with the
// rule; position absent or 0 puts it last.
func (h *Handlers) createAutoReply(c echo.Context) error {
	return h.inBrand(c, false, func(b store.Brand, _ int64) error {
		r, e := autoReplyBody(c)
		if e != nil {
			return apierr.Write(c, e)
		}
		a, err := h.automation.CreateRule(c.Request().Context(), b.ID, r)
		if err != nil {
			return h.routingFail(c, err)
		}
		return ok(c, http.StatusCreated, toAutoReplyJSON(a))
	})
}

// updateAutoReply: PUT /api/v1/brands/{slug}/auto-replies/{id} — replaces
// the rule; position absent or 0 keeps its place.
func (h *Handlers) updateAutoReply(c echo.Context) error {
	return h.inBrand(c, true, func(b store.Brand, id int64) error {
		r, e := autoReplyBody(c)
		if e != nil {
			return apierr.Write(c, e)
		}
		a, err := h.automation.UpdateRule(c.Request().Context(), b.ID, id, r)
		if err != nil {
			return h.routingFail(c, err)
		}
		return ok(c, http.StatusOK, toAutoReplyJSON(a))
	})
}

// deleteAutoReply: DELETE /api/v1/brands/{slug}/auto-replies/{id} — 204.
func (h *Handlers) deleteAutoReply(c echo.Context) error {
	return h.inBrand(c, true, func(b store.Brand, id int64) error {
		if err := h.automation.DeleteRule(c.Request().Context(), b.ID, id); err != nil {
			return h.routingFail(c, err)
		}
		return c.NoContent(http.StatusNoContent)
	})
}
