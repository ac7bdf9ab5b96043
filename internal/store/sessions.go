package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is a signed-in console user.
type Session struct {
	User      User
	CSRFToken string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateSession stores a session for userID under token (only its hash).
func (s *Store) CreateSession(ctx context.Context, token string, userID int64, csrf string, expires time.Time) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`,
		tokenHash(token), userID, csrf, expires)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// TouchSession returns the live session for token and records the visit. A
// session past its absolute expiry, idle longer than idle, or of a disabled
// user is deleted and ErrNotFound returned.
func (s *Store) TouchSession(ctx context.Context, token string, idle time.Duration) (Session, error) {
	var ss Session
	err := s.Pool.QueryRow(ctx, `
		UPDATE sessions se SET last_seen_at = now()
		FROM users u
		WHERE se.token_hash = $1 AND u.id = se.user_id AND NOT u.disabled
		  AND se.expires_at > now() AND se.last_seen_at > now() - $2::interval
		RETURNING u.id, u.email, u.password_hash, u.role, u.disabled, u.created_at, u.name, u.presence,
			se.csrf_token, se.created_at, se.last_seen_at, se.expires_at`, tokenHash(token), idle.String()).
		Scan(&ss.User.ID, &ss.User.Email, &ss.User.PasswordHash, &ss.User.Role, &ss.User.Disabled, &ss.User.CreatedAt, &ss.User.Name, &ss.User.Presence,
			&ss.CSRFToken, &ss.CreatedAt, &ss.LastSeen, &ss.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = s.DeleteSession(ctx, token)
		return ss, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	if err != nil {
		return ss, fmt.Errorf("store: session: %w", err)
	}
	return ss, nil
}

// DeleteSession ends a session (logout, expiry).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user but keep (a password change
// signs out the other devices).
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, tokenHash(keep)); err != nil {
		return fmt.Errorf("store: delete sessions: %w", err)
	}
	return nil
}

// RecordLoginFailure counts a failed login for throttling.
func (s *Store) RecordLoginFailure(ctx context.Context, email, address string) error {
	if _, err := s.Pool.Exec(ctx, `INSERT INTO login_failures (email, address) VALUES (lower($1), $2)`, email, address); err != nil {
		return fmt.Errorf("store: login failure: %w", err)
	}
	return nil
}

// LoginFailures counts failures for the account and for the address since since.
func (s *Store) LoginFailures(ctx context.Context, email, address string, since time.Time) (byEmail, byAddress int, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM login_failures WHERE email = lower($1) AND at > $3),
		(SELECT count(*) FROM login_failures WHERE address = $2 AND at > $3)`, email, address, since).Scan(&byEmail, &byAddress)
	if err != nil {
		return 0, 0, fmt.Errorf("store: login failures: %w", err)
	}
	return byEmail, byAddress, nil
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash); err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	return nil
}
