package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// APIKey is an API credential; only its hash is stored, so the key itself can
// be shown once, when it is created, and never again.
type APIKey struct {
	ID         int64
	Name       string
	Prefix     string
	CreatedAt  time.Time
	RevokedAt  *time.Time // nil while the key works
	LastUsedAt *time.Time // to within a minute; nil if never used
	KeyAccess
}

// KeyAccess is what a key may touch and how fast.
type KeyAccess struct {
	AllBrands bool
	BrandIDs  []int64 // the key's brands when not AllBrands (none: no brand)
	AllScopes bool
	Scopes    []string // the key's scopes when not AllScopes
	Rate      int      // requests per second (burst twice that)
}

// FullAccess is every brand and every scope at the default rate.
var FullAccess = KeyAccess{AllBrands: true, AllScopes: true, Rate: 100}

//nolint:gosec // G101: column names, not a credential
const apiKeyCols = `id, name, prefix, created_at, revoked_at, last_used_at, all_brands, brand_ids, all_scopes, scopes, rate`

func scanAPIKey(row pgx.Row) (APIKey, error) {
	var k APIKey
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.CreatedAt, &k.RevokedAt, &k.LastUsedAt,
		&k.AllBrands, &k.BrandIDs, &k.AllScopes, &k.Scopes, &k.Rate)
	return k, err
}

// CreateAPIKey stores the hash of key under name, with every brand and scope.
func (s *Store) CreateAPIKey(ctx context.Context, name, key string) (APIKey, error) {
	return s.CreateAPIKeyWith(ctx, name, key, FullAccess)
}

// CreateAPIKeyWith stores the hash of key under name with access a.
func (s *Store) CreateAPIKeyWith(ctx context.Context, name, key string, a KeyAccess) (APIKey, error) {
	h := sha256.Sum256([]byte(key))
	if a.BrandIDs == nil {
		a.BrandIDs = []int64{}
	}
	if a.Scopes == nil {
		a.Scopes = []string{}
	}
	if a.Rate <= 0 {
		a.Rate = FullAccess.Rate
	}
	k, err := scanAPIKey(s.Pool.QueryRow(ctx, `INSERT INTO api_keys (name, key_hash, prefix, all_brands, brand_ids, all_scopes, scopes, rate)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+apiKeyCols,
		name, h[:], key[:min(len(key), 10)], a.AllBrands, a.BrandIDs, a.AllScopes, a.Scopes, a.Rate))
	if err != nil {
		return k, fmt.Errorf("store: create api key %s: %w", name, err)
	}
	return k, nil
}

// APIKeyByKey returns the live (not revoked) key matching key, or
// ErrNotFound. It runs on every API request, so it records the use at most
// once a minute per key: the admin page shows when a key was last used
// (before revoking it) without a write per request.
func (s *Store) APIKeyByKey(ctx context.Context, key string) (APIKey, error) {
	h := sha256.Sum256([]byte(key))
	k, err := scanAPIKey(s.Pool.QueryRow(ctx, `
		WITH k AS (SELECT `+apiKeyCols+` FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL),
		touch AS (
			UPDATE api_keys a SET last_used_at = now() FROM k
			WHERE a.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute'))
		SELECT `+apiKeyCols+` FROM k`, h[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("store: api key: %w", ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("store: api key: %w", err)
	}
	return k, nil
}

// APIKeys lists every key, revoked ones too (an admin looking for what a
// leaked prefix was), newest first. Keys are few.
func (s *Store) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	return ks, nil
}

// RevokeAPIKey stops a key from working, for good; revoking it again keeps
// the first revocation time. ErrNotFound if there is no such key.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64) (APIKey, error) {
	k, err := scanAPIKey(s.Pool.QueryRow(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING `+apiKeyCols, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("store: revoke api key %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("store: revoke api key %d: %w", id, err)
	}
	return k, nil
}
