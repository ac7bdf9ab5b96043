package admin

import (
	"context"
	"strings"

	"github.com/parleyhq/parley/internal/store"
)

const maxKeyName = 200

// CreateAPIKey makes a new API key named for what it is for, and returns it:
// it is shown only this once, since only its hash is stored.
func CreateAPIKey(ctx context.Context, st *store.Store, name string) (string, store.APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", store.APIKey{}, invalid("name", "required (what the key is for)")
	}
	if runeLen(name) > maxKeyName {
		return "", store.APIKey{}, invalid("name", "%d characters is too long (at most %d)", runeLen(name), maxKeyName)
	}
	key := "pk_" + randomToken(24)
	k, err := st.CreateAPIKey(ctx, name, key)
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
