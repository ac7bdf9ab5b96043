package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/store"
)

// BrandAddInput is what `parley brand add` takes.
type BrandAddInput struct {
	Slug, Name, Timezone string
	Country              string
	HelpText             *string
	Numbers              []string
	MPS                  int
}

// BrandAdd validates in and creates or updates the brand and its numbers.
// The rules are internal/admin's, shared with the console.
func BrandAdd(ctx context.Context, st *store.Store, in BrandAddInput) (store.Brand, error) {
	b, err := admin.SaveBrand(ctx, st, admin.BrandSpec{Slug: in.Slug, Name: in.Name, Timezone: in.Timezone, Country: in.Country,
		HelpText: in.HelpText, Numbers: in.Numbers, MPS: in.MPS})
	return b, flagError(err)
}

// Roles a console user can have.
var Roles = admin.Roles

// UserAdd creates (or resets) a console user. An empty password is replaced by
// a generated one, which is returned so the caller can print it.
func UserAdd(ctx context.Context, st *store.Store, email, role, password string, brands ...string) (store.User, string, error) {
	email, err := admin.CheckEmail(email)
	if err != nil {
		return store.User{}, "", flagError(err)
	}
	if err := admin.CheckRole(role); err != nil {
		return store.User{}, "", flagError(err)
	}
	generated := ""
	if password == "" {
		generated = admin.NewPassword()
		password = generated
	}
	if len(password) < 8 {
		return store.User{}, "", errors.New("password: at least 8 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return store.User{}, "", fmt.Errorf("password: %w", err)
	}
	for _, b := range brands {
		if _, err := st.BrandBySlug(ctx, b); err != nil {
			return store.User{}, "", fmt.Errorf("--brand: %q is not a brand", b)
		}
	}
	u, err := st.UpsertUser(ctx, email, string(hash), role)
	if err != nil {
		return u, "", err
	}
	// The password was (re)set: whoever was signed in with the old one is not.
	if err := st.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return u, "", err
	}
	if err := admin.LimitToBrands(ctx, st, u, brands); err != nil {
		return u, "", flagError(err)
	}
	return u, generated, nil
}

// APIKeyAdd creates an API key and returns it; it is shown only this once.
func APIKeyAdd(ctx context.Context, st *store.Store, name string, opts ...APIKeyOption) (string, error) {
	f := admin.APIKeyForm{Name: name}
	for _, o := range opts {
		o(&f)
	}
	key, _, err := admin.CreateAPIKey(ctx, st, f)
	return key, flagError(err)
}

// APIKeyOption narrows a new API key.
type APIKeyOption func(*admin.APIKeyForm)

// ForBrands limits a key to the brands of these slugs.
func ForBrands(slugs ...string) APIKeyOption {
	return func(f *admin.APIKeyForm) { f.Brands = append(f.Brands, slugs...) }
}

// WithScopes limits a key to these scopes.
func WithScopes(scopes ...string) APIKeyOption {
	return func(f *admin.APIKeyForm) { f.Scopes = append(f.Scopes, scopes...) }
}

// AtRate sets a key's requests per second.
func AtRate(rate string) APIKeyOption {
	return func(f *admin.APIKeyForm) { f.Rate = rate }
}

// flagError shows an admin.FieldError as the CLI flag it came from
// (help_text → --help-text); other errors pass unchanged.
func flagError(err error) error {
	var fe *admin.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("--%s: %s", strings.ReplaceAll(fe.Field, "_", "-"), fe.Msg)
	}
	return err
}
