package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

// BrandAddInput is what `parley brand add` takes.
type BrandAddInput struct {
	Slug, Name, Timezone string
	HelpText             *string
	Numbers              []string
	MPS                  int
}

// BrandAdd validates in and creates or updates the brand and its numbers.
func BrandAdd(ctx context.Context, st *store.Store, in BrandAddInput) (store.Brand, error) {
	if in.Slug == "" {
		return store.Brand{}, errors.New("--slug: required (lowercase letters, digits and dashes, e.g. demo-air)")
	}
	if !validSlug(in.Slug) {
		return store.Brand{}, fmt.Errorf("--slug: %q must be lowercase letters, digits and dashes, starting with a letter or digit", in.Slug)
	}
	if strings.TrimSpace(in.Name) == "" {
		return store.Brand{}, errors.New("--name: required")
	}
	if in.Timezone != "" {
		if _, err := time.LoadLocation(in.Timezone); err != nil || in.Timezone == "Local" {
			return store.Brand{}, fmt.Errorf("--timezone: %q is not an IANA time zone (e.g. America/New_York)", in.Timezone)
		}
	}
	if in.MPS <= 0 || in.MPS > 10000 {
		return store.Brand{}, fmt.Errorf("--mps: %d must be between 1 and 10000", in.MPS)
	}
	bi := store.BrandInput{Slug: in.Slug, Name: strings.TrimSpace(in.Name), Timezone: in.Timezone, HelpText: in.HelpText}
	for _, n := range in.Numbers {
		norm, err := contact.NormalizeE164(n)
		if err != nil && isShortCode(n) {
			norm, err = strings.TrimSpace(n), nil
		}
		if err != nil {
			return store.Brand{}, fmt.Errorf("--number: %v (a sender number is E.164, e.g. +15005550006, or a 5-6 digit short code)", err)
		}
		bi.Numbers = append(bi.Numbers, store.BrandNumber{Number: norm, MPS: in.MPS})
	}
	b, err := st.UpsertBrand(ctx, bi)
	if errors.Is(err, store.ErrNumberTaken) {
		return b, fmt.Errorf("--number: %v", err)
	}
	return b, err
}

// isShortCode reports a US/Canadian short code: 5 or 6 digits.
func isShortCode(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 5 || len(s) > 6 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func validSlug(s string) bool {
	if len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Roles a console user can have.
var Roles = []string{"admin", "agent", "marketer"}

// UserAdd creates (or resets) a console user. An empty password is replaced by
// a generated one, which is returned so the caller can print it.
func UserAdd(ctx context.Context, st *store.Store, email, role, password string) (store.User, string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || !strings.Contains(email, "@") || strings.ContainsAny(email, " \t<>") {
		return store.User{}, "", fmt.Errorf("--email: %q is not an email address", email)
	}
	okRole := false
	for _, r := range Roles {
		okRole = okRole || r == role
	}
	if !okRole {
		return store.User{}, "", fmt.Errorf("--role: %q must be one of %s", role, strings.Join(Roles, ", "))
	}
	generated := ""
	if password == "" {
		generated = randomToken(12)
		password = generated
	}
	if len(password) < 8 {
		return store.User{}, "", errors.New("password: at least 8 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return store.User{}, "", fmt.Errorf("password: %w", err)
	}
	u, err := st.UpsertUser(ctx, email, string(hash), role)
	return u, generated, err
}

// APIKeyAdd creates an API key and returns it; it is shown only this once.
func APIKeyAdd(ctx context.Context, st *store.Store, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", errors.New("--name: required (what the key is for)")
	}
	key := "pk_" + randomToken(24)
	if _, err := st.CreateAPIKey(ctx, name, key); err != nil {
		return "", err
	}
	return key, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
