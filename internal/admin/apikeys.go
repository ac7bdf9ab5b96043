package admin

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
)

const maxKeyName = 200

// APIKeyForm is what a new key may touch: Brands are slugs (none: every
// brand), Scopes scope names (none: every scope), Rate requests per second
// ("" or 0: 100).
type APIKeyForm struct {
	Name   string
	Brands []string
	Scopes []string
	Rate   string
}

// CreateAPIKey makes a new API key named for what it is for, and returns it:
// it is shown only this once, since only its hash is stored.
func CreateAPIKey(ctx context.Context, st *store.Store, f APIKeyForm) (string, store.APIKey, error) {
	name := strings.TrimSpace(f.Name)
	if name == "" {
		return "", store.APIKey{}, invalid("name", "required (what the key is for)")
	}
	if runeLen(name) > maxKeyName {
		return "", store.APIKey{}, invalid("name", "%d characters is too long (at most %d)", runeLen(name), maxKeyName)
	}
	access := store.KeyAccess{AllBrands: true, AllScopes: true, Rate: 100}
	for _, slug := range f.Brands {
		slug = strings.TrimSpace(slug)
		if slug == "" {
			continue
		}
		b, err := st.BrandBySlug(ctx, slug)
		if errors.Is(err, store.ErrNotFound) {
			return "", store.APIKey{}, invalid("brand", "no brand has the slug %q", slug)
		}
		if err != nil {
			return "", store.APIKey{}, err
		}
		access.AllBrands = false
		if !slices.Contains(access.BrandIDs, b.ID) {
			access.BrandIDs = append(access.BrandIDs, b.ID)
		}
	}
	for _, sc := range f.Scopes {
		sc = strings.TrimSpace(sc)
		if sc == "" {
			continue
		}
		if !auth.KnownScope(sc) {
			names := make([]string, len(auth.Scopes))
			for i, s := range auth.Scopes {
				names[i] = string(s)
			}
			return "", store.APIKey{}, invalid("scope", "%q is not a scope (one of %s)", sc, strings.Join(names, ", "))
		}
		access.AllScopes = false
		if !slices.Contains(access.Scopes, sc) {
			access.Scopes = append(access.Scopes, sc)
		}
	}
	if r := strings.TrimSpace(f.Rate); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > 100000 {
			return "", store.APIKey{}, invalid("rate", "%q is not a whole number of requests per second from 1 to 100000", r)
		}
		access.Rate = n
	}
	key := "pk_" + randomToken(24)
	k, err := st.CreateAPIKeyWith(ctx, name, key, access)
	if err != nil {
		return "", k, err
	}
	return key, k, nil
}

// RevokeAPIKey stops a key from authenticating, for good (a leaked key is
// replaced, never un-revoked). An unknown id is store.ErrNotFound.
func RevokeAPIKey(ctx context.Context, st *store.Store, id int64) (store.APIKey, error) {
	return st.RevokeAPIKey(ctx, id)
}
