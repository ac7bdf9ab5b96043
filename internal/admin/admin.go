// Package admin holds the rules of Parley's administration: who may be
// invited with which role and brands, what a brand, a sender number, an API
// key or a canned response must look like, and what an admin may not do to
// their own account. The console's admin pages and the `parley` CLI both go
// through it, so a rule is written once. It never imports echo: errors are
// typed (FieldError) and the caller decides how to show them.
package admin

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrInvalid and ErrConflict classify a FieldError: the console answers 400
// for the first (the input is wrong) and 409 for the second (the input is
// fine but collides with something that exists: an email, a slug, a title, a
// number owned by another brand).
var (
	ErrInvalid  = errors.New("invalid input")
	ErrConflict = errors.New("already exists")
)

// FieldError says which input field is wrong and why, in words an admin can
// act on. Nothing was changed when an operation returns one. Field is the
// console form's field name; the CLI shows it as a flag (--field).
type FieldError struct {
	Field string
	Msg   string
	Err   error // ErrInvalid or ErrConflict
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap exposes the class of the error to errors.Is.
func (e *FieldError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

func conflict(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrConflict}
}

// randomToken returns n random bytes, base64url-encoded: passwords and API
// keys.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewPassword returns a random password (16 characters, 96 bits) for a user
// nobody chose one for; it is shown once and only its hash is kept.
func NewPassword() string { return randomToken(12) }

// runeLen counts characters as Postgres's length() does.
func runeLen(s string) int { return len([]rune(s)) }
