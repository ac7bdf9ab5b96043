package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/sheet"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// maxBody is the largest JSON request body accepted.
const maxBody = 1 << 20

// Page sizes of the list endpoints.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// decodeJSON reads the request body into v, refusing anything but one JSON
// object with known fields, and says precisely what was wrong.
func decodeJSON(c echo.Context, v any) *apierr.Error {
	r := c.Request()
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
		return apierr.New("unsupported_media", "send the body as Content-Type: application/json, not %q", ct)
	}
	limit := int64(maxBody)
	if l, ok := bodyLimits[strings.TrimPrefix(c.Path(), prefix)]; ok {
		limit = l
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		return jsonError(err, limit)
	}
	if bad := nulField(raw); bad != nil {
		return bad
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return jsonError(err, limit)
		}
		return apierr.New("invalid_request", "the body has more after its JSON object; send exactly one object")
	}
	return nil
}

// nulField refuses a JSON body with a NUL character (\u0000) in a string
// or a name: Postgres stores neither in text nor in jsonb. The error names
// where it is (filter.tiers[0]).
func nulField(raw []byte) *apierr.Error {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil // the decoder says what is wrong
	}
	if path, ok := nulPath(v, ""); ok {
		if path == "" {
			path = "body"
		}
		return apierr.Field("invalid_field", path, "%s must not hold a NUL character", path)
	}
	return nil
}

// nulPath finds a string or an object key holding NUL in v, and its path.
func nulPath(v any, at string) (string, bool) {
	switch x := v.(type) {
	case string:
		return at, strings.ContainsRune(x, 0)
	case []any:
		for i, e := range x {
			if p, ok := nulPath(e, fmt.Sprintf("%s[%d]", at, i)); ok {
				return p, true
			}
		}
	case map[string]any:
		for k, e := range x {
			p := k
			if at != "" {
				p = at + "." + k
			}
			if strings.ContainsRune(k, 0) {
				return at, true
			}
			if p, ok := nulPath(e, p); ok {
				return p, true
			}
		}
	}
	return "", false
}

func jsonError(err error, limit int64) *apierr.Error {
	var (
		tooBig  *http.MaxBytesError
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return apierr.New("payload_too_large", "the body is over %d bytes", limit)
	case errors.Is(err, io.EOF):
		return apierr.New("invalid_request", "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apierr.New("invalid_request", "the body ends in the middle of its JSON")
	case errors.As(err, &syntax):
		return apierr.New("invalid_request", "the body is not valid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return apierr.New("invalid_request", "the body must be a JSON object, not %s", typeErr.Value)
		}
		return apierr.Field("invalid_field", typeErr.Field, "%s must be %s, not %s", typeErr.Field, jsonType(typeErr.Type.Kind().String()), typeErr.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return apierr.Field("invalid_field", name, "%q is not a field of this request", name)
	}
	return apierr.New("invalid_request", "the body cannot be read: %v", err)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a " + kind
}

// fail answers err: a domain FieldError becomes the matching 400, anything
// else is logged and answered 500.
func (h *Handlers) fail(c echo.Context, err error) error {
	var fe *contact.FieldError
	if errors.As(err, &fe) {
		code := "invalid_field"
		switch {
		case errors.Is(fe.Err, contact.ErrInvalidPhone):
			code = "invalid_phone"
		case errors.Is(fe.Err, contact.ErrMissing):
			code = "missing_field"
		}
		return apierr.Write(c, apierr.Field(code, fe.Field, "%s: %s", fe.Field, fe.Msg))
	}
	return h.internal(c, err)
}

// brandParam resolves the brand query parameter. required says whether an
// absent one is an error; an absent optional one is the zero brand.
func (h *Handlers) brandParam(c echo.Context, required bool) (store.Brand, *apierr.Error, error) {
	slug := strings.TrimSpace(c.QueryParam("brand"))
	if slug == "" {
		if required {
			return store.Brand{}, apierr.Field("missing_field", "brand", "give the brand's slug: ?brand=<slug>"), nil
		}
		return store.Brand{}, nil, nil
	}
	b, err := h.st.BrandBySlug(c.Request().Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return b, apierr.Field("brand_not_found", "brand", "no brand has the slug %q", slug), nil
	}
	return b, nil, err
}

// keyMayUse checks that the request's key may touch the brand of slug. An
// unknown or empty slug passes: the handler reports it as bad input.
func (h *Handlers) keyMayUse(c echo.Context, slug string) (*apierr.Error, error) {
	slug = strings.TrimSpace(slug)
	if slug == "" || apiKey(c).AllBrands {
		return nil, nil
	}
	b, err := h.st.BrandBySlug(c.Request().Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return brandAllowed(c, b.ID, b.Slug), nil
}

// limitParam reads ?limit=, the page size.
func limitParam(c echo.Context) (int, *apierr.Error) {
	v := c.QueryParam("limit")
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, apierr.Field("invalid_field", "limit", "limit must be a whole number from 1 to %d, not %q", maxLimit, v)
	}
	return n, nil
}

// idParam reads a positive integer id from the query (or, with path set, the
// path) parameter name; absent is 0.
func idParam(c echo.Context, name string, path bool) (int64, *apierr.Error) {
	v := c.QueryParam(name)
	if path {
		v = c.Param(name)
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, apierr.Field("invalid_field", name, "%s must be a positive whole number, not %q", name, v)
	}
	return n, nil
}

// page writes a list envelope: {"data": [...], "next": "<url>"}, with next
// only when more items may follow. items holds up to limit+1 entries; the
// extra one only says that there is more.
func page[T any](c echo.Context, items []T, limit int, cursor string, cursorOf func(T) int64) error {
	body := map[string]any{}
	if len(items) > limit {
		items = items[:limit]
		q := c.Request().URL.Query()
		q.Set(cursor, fmt.Sprint(cursorOf(items[len(items)-1])))
		body["next"] = c.Request().URL.Path + "?" + q.Encode()
	}
	if items == nil {
		items = []T{}
	}
	body["data"] = items
	return c.JSON(http.StatusOK, body)
}

// bodyBrand is the brand a request body names by slug, checked against
// the key: 400 when none is named, 404 when there is no such brand, 403
// when the key may not touch it.
func (h *Handlers) bodyBrand(c echo.Context, slug string) (store.Brand, *apierr.Error, error) {
	if strings.TrimSpace(slug) == "" {
		return store.Brand{}, apierr.Field("missing_field", "brand", "give the brand's slug"), nil
	}
	b, err := h.st.BrandBySlug(c.Request().Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return b, apierr.Field("brand_not_found", "brand", "no brand has the slug %q", slug), nil
	}
	if err != nil {
		return b, nil, err
	}
	return b, brandAllowed(c, b.ID, b.Slug), nil
}

// csvSafe keeps a spreadsheet from reading a customer's words as a formula.
func csvSafe(rec []string) []string { return sheet.Safe(rec) }
