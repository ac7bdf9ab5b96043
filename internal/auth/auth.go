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
	ErrThrottled      = errors.New("too many failed sign-ins; wait a little")
	ErrNoSession      = errors.New("not signed in")
	ErrWeakPassword   = errors.New("the new password must have at least 10 characters")
)

// Lifetimes and limits of sessions and sign-ins.
const (
	IdleTimeout     = 12 * time.Hour
	AbsoluteTimeout = 7 * 24 * time.Hour
	// ThrottleWindow is how long a failed password check counts.
	ThrottleWindow = 15 * time.Minute
	// MaxPerAddress failures from one address within the window, whatever
	// the accounts, and that address waits until the oldest leaves it.
	MaxPerAddress = 20
	// FreeFailures of one account from one address go without a delay;
	// each one after that doubles the wait before the next check.
	FreeFailures = 3
	// MaxDelay caps the wait of one account at one address.
	MaxDelay = 4 * time.Second
)

// ThrottledError is a sign-in (or password change) refused before the
// password was checked; RetryAfter says when to try again.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v (try again in %s)", ErrThrottled, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Refusal says whether a password check is refused outright, from the
// failures already counted: 0 if not, else how long until it is allowed.
// The limit per address stops a guesser trying many accounts (and, through
// the delay below, one account) from one place.
func Refusal(st store.SignInStats) time.Duration {
	if st.Address >= MaxPerAddress {
		return max(st.AddressOldest.Add(ThrottleWindow).Sub(st.Now), time.Second)
	}
	return 0
}

// Delay is how long a permitted password check of one account from one
// address waits before it runs: nothing for the first FreeFailures
// failures, then baseDelay doubling with each further one (at most
// MaxDelay), counted from the latest failure. It slows a guesser of that
// account at that address and no one else: the owner signing in from their
// own address waits nothing.
func Delay(st store.SignInStats, baseDelay time.Duration) time.Duration {
	if st.Pair < FreeFailures {
		return 0
	}
	d := MaxDelay
	if n := st.Pair - FreeFailures; n < 20 {
		d = min(baseDelay<<n, MaxDelay)
	}
	return max(st.PairLast.Add(d).Sub(st.Now), 0)
}

// Service is the sign-in service.
type Service struct {
	st *store.Store
	// dummy is compared against when the email is unknown, so that the answer
	// takes as long as for a known one.
	dummy []byte
	// BaseDelay is the wait after FreeFailures failures of one account from
	// one address (default 250 ms), doubling with each further one.
	BaseDelay time.Duration
}

// New returns the service.
func New(st *store.Store) *Service {
	h, err := bcrypt.GenerateFromPassword([]byte("parley-dummy-password"), bcrypt.DefaultCost)
	if err != nil {
		panic(err)
	}
	return &Service{st: st, dummy: h, BaseDelay: 250 * time.Millisecond}
}

// Login checks the credentials and starts a new session (a fresh token: a
// session id is never carried over from before the sign-in). address is the
// client's address, for throttling.
func (s *Service) Login(ctx context.Context, email, password, address string) (token string, _ store.Session, err error) {
	email = strings.ToLower(strings.TrimSpace(email))
	attempt, err := s.begin(ctx, email, address)
	if err != nil {
		return "", store.Session{}, err
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
		return "", store.Session{}, ErrBadCredentials // the attempt stays counted
	}
	if err := s.st.SignInSucceeded(ctx, attempt, email, address); err != nil {
		return "", store.Session{}, err
	}
	token, csrf := randomToken(), randomToken()
	expires := time.Now().Add(AbsoluteTimeout)
	if err := s.st.CreateSession(ctx, token, u.ID, csrf, expires); err != nil {
		return "", store.Session{}, err
	}
	return token, store.Session{User: u, CSRFToken: csrf, ExpiresAt: expires}, nil
}

// begin counts a password check of email from address before it happens —
// or refuses it with a *ThrottledError — and then waits the account's delay
// at that address.
func (s *Service) begin(ctx context.Context, email, address string) (int64, error) {
	var refused, delay time.Duration
	attempt, _, ok, err := s.st.BeginSignIn(ctx, strings.ToLower(email), address, ThrottleWindow, func(st store.SignInStats) bool {
		refused, delay = Refusal(st), Delay(st, s.BaseDelay)
		return refused == 0
	})
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, &ThrottledError{RetryAfter: refused}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return attempt, nil
}

// Live returns the user of token's session if it still holds, without
// counting as activity.
func (s *Service) Live(ctx context.Context, token string) (store.User, bool, error) {
	if token == "" {
		return store.User{}, false, nil
	}
	return s.st.SessionLive(ctx, token, IdleTimeout)
}

// LiveAll is Live for many tokens at once: the users of the sessions that
// still hold, by token.
func (s *Service) LiveAll(ctx context.Context, tokens []string) (map[string]store.User, error) {
	return s.st.SessionsLive(ctx, tokens, IdleTimeout)
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

// ChangePassword sets a new password after checking the current one, ends
// every session of the user and returns a new one for the caller.
// The current password is checked under the same limits as a sign-in from
// address, so a stolen session cannot guess it at bcrypt's speed.
func (s *Service) ChangePassword(ctx context.Context, ss store.Session, address, current, next string) (newToken string, err error) {
	attempt, err := s.begin(ctx, ss.User.Email, address)
	if err != nil {
		return "", err
	}
	if bcrypt.CompareHashAndPassword([]byte(ss.User.PasswordHash), []byte(current)) != nil {
		return "", ErrBadCredentials
	}
	if err := s.st.SignInSucceeded(ctx, attempt, ss.User.Email, address); err != nil {
		return "", err
	}
	if len(next) < 10 {
		return "", ErrWeakPassword
	}
	h, err := bcrypt.GenerateFromPassword([]byte(next), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("auth: hash: %w", err)
	}
	if err := s.st.SetPassword(ctx, ss.User.ID, string(h)); err != nil {
		return "", err
	}
	// Every session of the user ends, this one too: the caller gets a new
	// one, so a session stolen before the change is worth nothing after it.
	if err := s.st.DeleteUserSessions(ctx, ss.User.ID, ""); err != nil {
		return "", err
	}
	fresh, csrf := randomToken(), randomToken()
	if err := s.st.CreateSession(ctx, fresh, ss.User.ID, csrf, time.Now().Add(AbsoluteTimeout)); err != nil {
		return "", err
	}
	return fresh, nil
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
