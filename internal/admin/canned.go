package admin

import (
	"context"
	"errors"
	"strings"

	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/store"
)

// Limits of a canned response, as the table's CHECKs say.
const (
	maxCannedTitle = 100
	maxCannedBody  = 1600
)

const cannedFieldsHelp = "a body may use {{.FirstName}}, {{.Name}}, {{.Phone}}, {{.LoyaltyID}} and {{.Attributes.key}}"

// CheckCannedBody says whether body is a template Parley can fill in: it is
// filled in once with an empty contact (the same personalize package agents'
// replies use), so a misspelt field or a function call is caught when the
// admin saves it, not when an agent inserts it.
func CheckCannedBody(body string) error {
	if _, err := personalize.Render(body, personalize.NewData("", "", "", nil)); err != nil {
		return invalid("body", "%v (%s)", err, cannedFieldsHelp)
	}
	return nil
}

// CannedForm is a new canned response as an admin typed it.
type CannedForm struct {
	Title     string
	Body      string
	Brand     string // slug; "" for every brand
	CreatedBy int64
}

// CreateCanned saves a canned response for one brand or for all. A title
// already used for the same brand is a conflict: agents pick responses by
// title.
func CreateCanned(ctx context.Context, st *store.Store, f CannedForm) (store.CannedResponse, error) {
	title, body, slug := strings.TrimSpace(f.Title), strings.TrimSpace(f.Body), strings.TrimSpace(f.Brand)
	switch {
	case title == "":
		return store.CannedResponse{}, invalid("title", "required")
	case runeLen(title) > maxCannedTitle:
		return store.CannedResponse{}, invalid("title", "%d characters is too long (at most %d)", runeLen(title), maxCannedTitle)
	case body == "":
		return store.CannedResponse{}, invalid("body", "required")
	case runeLen(body) > maxCannedBody:
		return store.CannedResponse{}, invalid("body", "%d characters is too long (at most %d)", runeLen(body), maxCannedBody)
	}
	if err := CheckCannedBody(body); err != nil {
		return store.CannedResponse{}, err
	}
	in := store.CannedInput{Title: title, Body: body, CreatedBy: f.CreatedBy}
	if slug != "" {
		b, err := st.BrandBySlug(ctx, slug)
		if errors.Is(err, store.ErrNotFound) {
			return store.CannedResponse{}, invalid("brand", "%q is not a brand", slug)
		}
		if err != nil {
			return store.CannedResponse{}, err
		}
		in.BrandID = b.ID
	}
	c, err := st.CreateCannedResponse(ctx, in)
	if errors.Is(err, store.ErrTitleTaken) {
		scope := "every brand"
		if slug != "" {
			scope = slug
		}
		return c, conflict("title", "%q is already a canned response for %s", title, scope)
	}
	return c, err
}

// DeleteCanned removes a canned response; agents no longer see it. An
// unknown id is store.ErrNotFound.
func DeleteCanned(ctx context.Context, st *store.Store, id int64) error {
	return st.DeleteCannedResponse(ctx, id)
}
