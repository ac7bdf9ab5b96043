package store

import (
	"context"
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
	err := s.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = lower($1)`, email).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Disabled, &u.CreatedAt, &u.Name, &u.Presence)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("store: user %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("store: user %s: %w", email, err)
	}
	return u, nil
}

const userCols = `id, email, password_hash, role, disabled, created_at, name, presence`

// ErrEmailTaken is returned when an invitation names an email that already
// has an account (the console never resets someone else's password by
// inviting them again).
var ErrEmailTaken = errors.New("a user with this email already exists")

// UserByID returns the user or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Disabled, &u.CreatedAt, &u.Name, &u.Presence)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("store: user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("store: user %d: %w", id, err)
	}
	return u, nil
}

// UserSummary is a user as the admin page lists them: without the password
// hash, with the brands they are limited to and when their presence changed.
type UserSummary struct {
	ID         int64
	Email      string
	Name       string
	Role       string
	Disabled   bool
	Presence   string
	PresenceAt *time.Time
	CreatedAt  time.Time
	Brands     []string // slugs the user is limited to (when not AllBrands)
	AllBrands  bool
	Capacity   int // open conversations assigned automatically at most
}

// Users lists every user, disabled ones too, by email. Users are few.
func (s *Store) Users(ctx context.Context) ([]UserSummary, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT u.id, u.email, u.name, u.role, u.disabled, u.presence, u.presence_at, u.created_at,
			coalesce(array_agg(b.slug ORDER BY b.slug) FILTER (WHERE b.slug IS NOT NULL), '{}'), u.all_brands, u.capacity
		FROM users u
		LEFT JOIN user_brands ub ON ub.user_id = u.id
		LEFT JOIN brands b ON b.id = ub.brand_id
		GROUP BY u.id ORDER BY u.email`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	us, err := pgx.CollectRows(rows, pgx.RowToStructByPos[UserSummary])
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return us, nil
}

// NewUser is an invited user: the admin console creates accounts this way,
// refusing a taken email instead of resetting it as UpsertUser does.
type NewUser struct {
	Email, Name, PasswordHash, Role string
	AllBrands                       bool    // every brand, those added later too
	BrandIDs                        []int64 // otherwise only these (none: no brand)
}

// CreateUser stores an invited user and the brands they are limited to, in
// one transaction. ErrEmailTaken if the email has an account.
func (s *Store) CreateUser(ctx context.Context, in NewUser) (User, error) {
	var u User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO users (email, name, password_hash, role) VALUES (lower($1), $2, $3, $4)
			RETURNING `+userCols, in.Email, in.Name, in.PasswordHash, in.Role).
			Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Disabled, &u.CreatedAt, &u.Name, &u.Presence)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create user %s: %w", in.Email, ErrEmailTaken)
		}
		if err != nil {
			return fmt.Errorf("store: create user %s: %w", in.Email, err)
		}
		return setUserBrands(ctx, tx, u.ID, in.AllBrands, in.BrandIDs)
	})
	return u, err
}

// UserChange is what an admin sets on an existing user. Every field is
// written: the form always carries them all.
type UserChange struct {
	ID        int64
	Name      string
	Role      string
	Disabled  bool
	AllBrands bool    // every brand, those added later too
	BrandIDs  []int64 // otherwise only these (none: no brand)
}

// UpdateUser applies a change in one transaction. Disabling a user also ends
// every session they have, so they are out at their next click rather than
// at their next sign-in. ErrNotFound if there is no such user.
func (s *Store) UpdateUser(ctx context.Context, in UserChange) (User, error) {
	var u User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE users SET name = $2, role = $3, disabled = $4 WHERE id = $1 RETURNING `+userCols,
			in.ID, in.Name, in.Role, in.Disabled).
			Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Disabled, &u.CreatedAt, &u.Name, &u.Presence)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store: update user %d: %w", in.ID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: update user %d: %w", in.ID, err)
		}
		if in.Disabled {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, in.ID); err != nil {
				return fmt.Errorf("store: sign out user %d: %w", in.ID, err)
			}
		}
		return setUserBrands(ctx, tx, in.ID, in.AllBrands, in.BrandIDs)
	})
	return u, err
}

// SetUserBrands gives a user every brand (all), or exactly brandIDs (none:
// no brand), replacing what they had.
func (s *Store) SetUserBrands(ctx context.Context, userID int64, all bool, brandIDs []int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return setUserBrands(ctx, tx, userID, all, brandIDs) })
}

func setUserBrands(ctx context.Context, tx pgx.Tx, userID int64, all bool, brandIDs []int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM user_brands WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("store: brands of user %d: %w", userID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET all_brands = $2 WHERE id = $1`, userID, all); err != nil {
		return fmt.Errorf("store: brands of user %d: %w", userID, err)
	}
	if all || len(brandIDs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO user_brands (user_id, brand_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
		userID, brandIDs); err != nil {
		return fmt.Errorf("store: brands of user %d: %w", userID, err)
	}
	return nil
}

// SetUserCapacity sets how many open conversations the user is given
// automatically at most (0: none). ErrNotFound for an unknown user.
func (s *Store) SetUserCapacity(ctx context.Context, id int64, capacity int) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE users SET capacity = $2 WHERE id = $1`, id, capacity)
	if err != nil {
		return fmt.Errorf("store: capacity of user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: user %d: %w", id, ErrNotFound)
	}
	return nil
}
