// Package auth signs console users in and out: password check (bcrypt),
// server-side sessions with idle and absolute expiry, CSRF tokens, login
// throttling per account and per address, and the role matrix.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/store"
)

// Errors a sign-in can end with. ErrBadCredentials never says which of the
// email and the password was wrong.
var (
	ErrBadCredentials = errors.New("the email or the password is not right")
	ErrThrottled      = errors.New("too many failed sign-ins; wait a few minutes")
	ErrNoSession      = errors.New("not signed in")
	ErrWeakPassword   = errors.New("the new password must have at least 10 characters")
)

// Lifetimes and limits of sessions and sign-ins.
const (
	IdleTimeout     = 12 * time.Hour
	AbsoluteTimeout = 7 * 24 * time.Hour
	throttleWindow  = 15 * time.Minute
	maxPerAccount   = 5
	maxPerAddress   = 20
)

// Service is the sign-in service.
type Service struct {
	st *store.Store
	// dummy is compared against when the email is unknown, so that the answer
	// takes as long as for a known one.
	dummy []byte
}

// New returns the service.
func New(st *store.Store) *Service {
	h, err := bcrypt.GenerateFromPassword([]byte("parley-dummy-password"), bcrypt.DefaultCost)
	if err != nil {
		panic(err)
	}
	return &Service{st: st, dummy: h}
}

// Login checks the credentials and starts a new session (a fresh token: a
// session id is never carried over from before the sign-in). address is the
// client's address, for throttling.
func (s *Service) Login(ctx context.Context, email, password, address string) (token string, _ store.Session, err error) {
	email = strings.ToLower(strings.TrimSpace(email))
	byEmail, byAddr, err := s.st.LoginFailures(ctx, email, address, time.Now().Add(-throttleWindow))
	if err != nil {
		return "", store.Session{}, err
	}
	if byEmail >= maxPerAccount || byAddr >= maxPerAddress {
		return "", store.Session{}, ErrThrottled
	}
	u, err := s.st.UserByEmail(ctx, email)
	hash := s.dummy
	if err == nil {
		hash = []byte(u.PasswordHash)
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", store.Session{}, err
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if err != nil || !match || u.Disabled {
		if rerr := s.st.RecordLoginFailure(ctx, email, address); rerr != nil {
			return "", store.Session{}, rerr
		}
		return "", store.Session{}, ErrBadCredentials
	}
	token, csrf := randomToken(), randomToken()
	expires := time.Now().Add(AbsoluteTimeout)
	if err := s.st.CreateSession(ctx, token, u.ID, csrf, expires); err != nil {
		return "", store.Session{}, err
	}
	return token, store.Session{User: u, CSRFToken: csrf, ExpiresAt: expires}, nil
}

// Authenticate returns the live session for a token.
func (s *Service) Authenticate(ctx context.Context, token string) (store.Session, error) {
	if token == "" {
		return store.Session{}, ErrNoSession
	}
	ss, err := s.st.TouchSession(ctx, token, IdleTimeout)
	if errors.Is(err, store.ErrNotFound) {
		return ss, ErrNoSession
	}
	return ss, err
}

// Logout ends the session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.st.DeleteSession(ctx, token)
}

// ChangePassword sets a new password after checking the current one, and
// signs out every other session of the user.
func (s *Service) ChangePassword(ctx context.Context, ss store.Session, token, current, next string) error {
	if bcrypt.CompareHashAndPassword([]byte(ss.User.PasswordHash), []byte(current)) != nil {
		return ErrBadCredentials
	}
	if len(next) < 10 {
		return ErrWeakPassword
	}
	h, err := bcrypt.GenerateFromPassword([]byte(next), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("auth: hash: %w", err)
	}
	if err := s.st.SetPassword(ctx, ss.User.ID, string(h)); err != nil {
		return err
	}
	return s.st.DeleteUserSessions(ctx, ss.User.ID, token)
}

// CSRFValid compares a submitted CSRF token with the session's in constant time.
func CSRFValid(ss store.Session, submitted string) bool {
	return submitted != "" && subtle.ConstantTimeCompare([]byte(ss.CSRFToken), []byte(submitted)) == 1
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
