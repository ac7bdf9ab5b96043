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

// SessionLive returns the user of token's session if it still holds (not
// ended, expired or idle, its user not disabled), without counting as
// activity: an open event stream asks it every few seconds.
func (s *Store) SessionLive(ctx context.Context, token string, idle time.Duration) (User, bool, error) {
	var u User
	err := s.Pool.QueryRow(ctx, `SELECT u.id, u.email, u.role FROM sessions se JOIN users u ON u.id = se.user_id
		WHERE se.token_hash = $1 AND NOT u.disabled AND se.expires_at > now() AND se.last_seen_at > now() - $2::interval`,
		tokenHash(token), idle.String()).Scan(&u.ID, &u.Email, &u.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("store: session live: %w", err)
	}
	return u, true, nil
}

// SessionsLive is SessionLive for many tokens in one statement: the users
// of the sessions that still hold, by token (a token absent has ended).
func (s *Store) SessionsLive(ctx context.Context, tokens []string, idle time.Duration) (map[string]User, error) {
	byHash := make(map[string]string, len(tokens))
	hashes := make([][]byte, 0, len(tokens))
	for _, t := range tokens {
		h := tokenHash(t)
		byHash[string(h)] = t
		hashes = append(hashes, h)
	}
	rows, err := s.Pool.Query(ctx, `SELECT se.token_hash, u.id, u.email, u.role FROM sessions se JOIN users u ON u.id = se.user_id
		WHERE se.token_hash = ANY($1) AND NOT u.disabled AND se.expires_at > now() AND se.last_seen_at > now() - $2::interval`,
		hashes, idle.String())
	if err != nil {
		return nil, fmt.Errorf("store: sessions live: %w", err)
	}
	defer rows.Close()
	out := make(map[string]User, len(tokens))
	for rows.Next() {
		var h []byte
		var u User
		if err := rows.Scan(&h, &u.ID, &u.Email, &u.Role); err != nil {
			return nil, fmt.Errorf("store: sessions live: %w", err)
		}
		out[byHash[string(h)]] = u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sessions live: %w", err)
	}
	return out, nil
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

// SignInStats are the failed password checks within the throttle window, as
// they stand when a new attempt is about to be checked.
type SignInStats struct {
	Now time.Time // the database's clock
	// For the account from this address: how many, and the latest.
	Pair     int
	PairLast time.Time
	// From this address, whatever the account: how many, and the oldest.
	Address       int
	AddressOldest time.Time
}

// BeginSignIn counts an attempt to check email's password from address
// before the password is checked, atomically: under a lock per address, it
// reads the failures within window, asks allow, and if allowed records the
// attempt as a failure (so parallel guesses each see the ones before them).
// The caller clears it with SignInSucceeded when the password is right.
// Failures older than window are pruned here, a hundred at a time.
func (s *Store) BeginSignIn(ctx context.Context, email, address string, window time.Duration,
	allow func(SignInStats) bool) (attempt int64, stats SignInStats, ok bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('signin:' || $1, 0))`, address); err != nil {
			return err
		}
		var pairLast, addrOldest *time.Time
		if err := tx.QueryRow(ctx, `SELECT now(),
			(SELECT count(*) FROM login_failures WHERE email = lower($1) AND address = $2 AND at > now() - $3::interval),
			(SELECT max(at) FROM login_failures WHERE email = lower($1) AND address = $2 AND at > now() - $3::interval),
			(SELECT count(*) FROM login_failures WHERE address = $2 AND at > now() - $3::interval),
			(SELECT min(at) FROM login_failures WHERE address = $2 AND at > now() - $3::interval)`,
			email, address, window.String()).Scan(&stats.Now, &stats.Pair, &pairLast, &stats.Address, &addrOldest); err != nil {
			return err
		}
		if pairLast != nil {
			stats.PairLast = *pairLast
		}
		if addrOldest != nil {
			stats.AddressOldest = *addrOldest
		}
		if ok = allow(stats); !ok {
			return nil
		}
		if err := tx.QueryRow(ctx, `INSERT INTO login_failures (email, address) VALUES (lower($1), $2) RETURNING id`,
			email, address).Scan(&attempt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE id IN (
			SELECT id FROM login_failures WHERE at < now() - $1::interval ORDER BY id LIMIT 100)`, window.String())
		return err
	})
	if err != nil {
		return 0, stats, false, fmt.Errorf("store: begin sign-in: %w", err)
	}
	return attempt, stats, ok, nil
}

// SignInSucceeded clears the attempt, and the account's earlier failures
// from the same address (the person there knows the password).
func (s *Store) SignInSucceeded(ctx context.Context, attempt int64, email, address string) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM login_failures WHERE id = $1 OR (email = lower($2) AND address = $3)`,
		attempt, email, address); err != nil {
		return fmt.Errorf("store: sign-in succeeded: %w", err)
	}
	return nil
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash); err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	return nil
}
