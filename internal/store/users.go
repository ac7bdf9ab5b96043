package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is a console account.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	Role         string
	Disabled     bool
	CreatedAt    time.Time
	Name         string
	Presence     string // online, away, offline
}

// UpsertUser creates the user or, for an existing email, sets a new password
// hash and role (so `parley user add` can also reset a password).
func (s *Store) UpsertUser(ctx context.Context, email, passwordHash, role string) (User, error) {
	var u User
	err := s.Pool.QueryRow(ctx, `
		INSERT INTO users (email, password_hash, role) VALUES (lower($1), $2, $3)
		ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, disabled = false
		RETURNING id, email, password_hash, role, disabled, created_at`, email, passwordHash, role).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Disabled, &u.CreatedAt)
	if err != nil {
		return u, fmt.Errorf("store: upsert user %s: %w", email, err)
	}
	return u, nil
}

// UserByEmail returns the user or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.Pool.QueryRow(ctx, `SELECT id, email, password_hash, role, disabled, created_at FROM users WHERE email = lower($1)`, email).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Disabled, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("store: user %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("store: user %s: %w", email, err)
	}
	return u, nil
}

// APIKey is an API credential; only its hash is stored.
type APIKey struct {
	ID        int64
	Name      string
	Prefix    string
	CreatedAt time.Time
}

// CreateAPIKey stores the hash of key under name.
func (s *Store) CreateAPIKey(ctx context.Context, name, key string) (APIKey, error) {
	h := sha256.Sum256([]byte(key))
	k := APIKey{Name: name, Prefix: key[:min(len(key), 10)]}
	err := s.Pool.QueryRow(ctx, `INSERT INTO api_keys (name, key_hash, prefix) VALUES ($1, $2, $3) RETURNING id, created_at`,
		name, h[:], k.Prefix).Scan(&k.ID, &k.CreatedAt)
	if err != nil {
		return k, fmt.Errorf("store: create api key %s: %w", name, err)
	}
	return k, nil
}

// APIKeyByKey returns the live (not revoked) key matching key, or ErrNotFound.
func (s *Store) APIKeyByKey(ctx context.Context, key string) (APIKey, error) {
	h := sha256.Sum256([]byte(key))
	var k APIKey
	err := s.Pool.QueryRow(ctx, `SELECT id, name, prefix, created_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, h[:]).
		Scan(&k.ID, &k.Name, &k.Prefix, &k.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("store: api key: %w", ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("store: api key: %w", err)
	}
	return k, nil
}
