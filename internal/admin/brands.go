package admin

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

// Limits on a brand's settings.
const (
	maxBrandName   = 200
	maxHelpText    = 1600 // the longest text Parley sends
	MaxMPS         = 10000
	MaxSLAMinutes  = 10080 // a week, as the column's CHECK says
	DefaultSLA     = 15    // the column default of brands.sla_minutes
	slugHelp       = "lowercase letters, digits and dashes, e.g. demo-air"
	numberHelp     = "a sender number is E.164, e.g. +15005550006, or a 5-6 digit short code"
	defaultMPSHelp = "messages per second, between 1 and 10000"
)

func checkSlug(slug string) error {
	if slug == "" {
		return invalid("slug", "required (%s)", slugHelp)
	}
	if !validSlug(slug) {
		return invalid("slug", "%q must be lowercase letters, digits and dashes, starting with a letter or digit", slug)
	}
	return nil
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

func checkBrandName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", invalid("name", "required")
	}
	if runeLen(name) > maxBrandName {
		return "", invalid("name", "%d characters is too long (at most %d)", runeLen(name), maxBrandName)
	}
	return name, nil
}

func checkTimezone(tz string) error {
	if tz == "" {
		return nil
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		return invalid("timezone", "%q is not an IANA time zone (e.g. America/New_York)", tz)
	}
	return nil
}

func checkMPS(mps int) error {
	if mps <= 0 || mps > MaxMPS {
		return invalid("mps", "%d must be between 1 and %d", mps, MaxMPS)
	}
	return nil
}

// checkCountry upper-cases a default country and checks that the phone
// number data knows it.
func checkCountry(c string) (string, error) {
	c = strings.ToUpper(strings.TrimSpace(c))
	if c != "" && !contact.ValidCountry(c) {
		return "", invalid("default_country", "%q is not a two-letter country code (e.g. US, CA, GB)", c)
	}
	return c, nil
}

// NormalizeNumber returns a sender number in the form it is stored: E.164,
// or a US/Canadian short code (5 or 6 digits) as typed.
func NormalizeNumber(n string) (string, error) { return normalizeNumber(n, "") }

func normalizeNumber(n, country string) (string, error) {
	norm, err := contact.NormalizePhone(n, country)
	if err != nil && isShortCode(n) {
		return strings.TrimSpace(n), nil
	}
	if err != nil {
		return "", invalid("number", "%v (%s)", err, numberHelp)
	}
	return norm, nil
}

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

// atoiField parses a whole number typed into field, within [lo, hi].
func atoiField(field, s string, lo, hi int, help string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, invalid(field, "required (%s)", help)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, invalid(field, "%q is not a whole number (%s)", s, help)
	}
	if n < lo || n > hi {
		return 0, invalid(field, "%d must be between %d and %d", n, lo, hi)
	}
	return n, nil
}

// BrandSpec is what `parley brand add` takes: a brand created or updated by
// slug, with numbers added or re-rated, all at MPS.
type BrandSpec struct {
	Slug, Name, Timezone string
	Country              string  // default country of numbers; "" keeps it (US for a new brand)
	HelpText             *string // nil keeps the stored text
	Numbers              []string
	MPS                  int
}

// SaveBrand validates in and creates or updates the brand and its numbers
// (the CLI's upsert: running it again with new values is how a brand is
// changed from a shell).
func SaveBrand(ctx context.Context, st *store.Store, in BrandSpec) (store.Brand, error) {
	if err := checkSlug(in.Slug); err != nil {
		return store.Brand{}, err
	}
	name, err := checkBrandName(in.Name)
	if err != nil {
		return store.Brand{}, err
	}
	if err := checkTimezone(in.Timezone); err != nil {
		return store.Brand{}, err
	}
	if err := checkMPS(in.MPS); err != nil {
		return store.Brand{}, err
	}
	country, err := checkCountry(in.Country)
	if err != nil {
		return store.Brand{}, err
	}
	bi := store.BrandInput{Slug: in.Slug, Name: name, Timezone: in.Timezone, DefaultCountry: country, HelpText: in.HelpText}
	for _, n := range in.Numbers {
		norm, err := normalizeNumber(n, country)
		if err != nil {
			return store.Brand{}, err
		}
		bi.Numbers = append(bi.Numbers, store.BrandNumber{Number: norm, MPS: in.MPS})
	}
	b, err := st.UpsertBrand(ctx, bi)
	if errors.Is(err, store.ErrNumberTaken) {
		return b, conflict("number", "%v", err)
	}
	return b, err
}

// BrandForm is a brand's settings as an admin typed them in the console.
type BrandForm struct {
	Slug       string // ignored on update: a slug never changes
	Name       string
	Timezone   string // "" is America/New_York for a new brand, unchanged on update
	Country    string // default country of numbers: "" is US for a new brand, unchanged on update
	HelpText   string // the answer to HELP/INFO
	SLAMinutes string // "" is 15 for a new brand, unchanged on update
}

func (f BrandForm) input(update bool) (store.BrandInput, error) {
	if !update {
		if err := checkSlug(f.Slug); err != nil {
			return store.BrandInput{}, err
		}
	}
	name, err := checkBrandName(f.Name)
	if err != nil {
		return store.BrandInput{}, err
	}
	tz := strings.TrimSpace(f.Timezone)
	if err := checkTimezone(tz); err != nil {
		return store.BrandInput{}, err
	}
	country, err := checkCountry(f.Country)
	if err != nil {
		return store.BrandInput{}, err
	}
	help := strings.TrimSpace(f.HelpText)
	if runeLen(help) > maxHelpText {
		return store.BrandInput{}, invalid("help_text", "%d characters is too long (at most %d)", runeLen(help), maxHelpText)
	}
	sla := 0
	if strings.TrimSpace(f.SLAMinutes) != "" || !update {
		if strings.TrimSpace(f.SLAMinutes) == "" {
			f.SLAMinutes = strconv.Itoa(DefaultSLA)
		}
		if sla, err = atoiField("sla_minutes", f.SLAMinutes, 1, MaxSLAMinutes, "minutes a customer may wait for a first answer, at most a week"); err != nil {
			return store.BrandInput{}, err
		}
	}
	return store.BrandInput{Slug: f.Slug, Name: name, Timezone: tz, DefaultCountry: country, HelpText: &help, SLAMinutes: sla}, nil
}

// CreateBrand creates a brand from the console, without numbers; a slug in
// use is a conflict (the console never overwrites a brand by creating it).
func CreateBrand(ctx context.Context, st *store.Store, f BrandForm) (store.Brand, error) {
	f.Slug = strings.TrimSpace(f.Slug)
	in, err := f.input(false)
	if err != nil {
		return store.Brand{}, err
	}
	b, err := st.CreateBrand(ctx, in)
	if errors.Is(err, store.ErrSlugTaken) {
		return b, conflict("slug", "%q is already a brand", f.Slug)
	}
	return b, err
}

// UpdateBrand changes a brand's name, time zone, HELP answer and response
// target. An unknown slug is store.ErrNotFound.
func UpdateBrand(ctx context.Context, st *store.Store, slug string, f BrandForm) (store.Brand, error) {
	in, err := f.input(true)
	if err != nil {
		return store.Brand{}, err
	}
	return st.UpdateBrand(ctx, slug, in)
}

// AddNumber gives the brand slug a sender number, or changes the rate of one
// it has. A number of another brand is a conflict: it must be removed there
// first, so that inbound texts never have two possible brands. An unknown
// slug is store.ErrNotFound.
func AddNumber(ctx context.Context, st *store.Store, slug, number, mps string) (store.BrandNumber, error) {
	norm, err := NormalizeNumber(number)
	if err != nil {
		return store.BrandNumber{}, err
	}
	rate, err := atoiField("mps", mps, 1, MaxMPS, defaultMPSHelp)
	if err != nil {
		return store.BrandNumber{}, err
	}
	n := store.BrandNumber{Number: norm, MPS: rate}
	err = st.PutBrandNumber(ctx, slug, n)
	if errors.Is(err, store.ErrNumberTaken) {
		return n, conflict("number", "%s belongs to another brand; remove it there first", norm)
	}
	return n, err
}

// RemoveNumber takes a sender number away from a brand. Removing a brand's
// last number is allowed (a brand may exist before it has numbers), but the
// brand then cannot send until it gets one. A number the brand does not own
// is store.ErrNotFound.
func RemoveNumber(ctx context.Context, st *store.Store, slug, number string) (string, error) {
	norm, err := NormalizeNumber(number)
	if err != nil {
		return "", err
	}
	return norm, st.RemoveBrandNumber(ctx, slug, norm)
}
