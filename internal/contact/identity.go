package contact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/store"
)

// Limits on one upsert, so that a client bug cannot write a contact nobody can
// display.
const (
	maxPhones        = 20
	maxLoyaltyID     = 100
	maxName          = 200
	maxConsent       = 50
	maxAttributeKeys = 200
)

// ErrMissing and ErrInvalid classify a FieldError (with ErrInvalidPhone), so
// that the API can answer missing_field, invalid_field or invalid_phone.
var (
	ErrMissing = errors.New("missing field")
	ErrInvalid = errors.New("invalid field")
)

// FieldError says which input field is wrong and why. Nothing was written
// when an operation returns one.
type FieldError struct {
	Field string // as the client named it: "phones[1]", "consent[0].brand"
	// ErrMissing, ErrInvalid or ErrInvalidPhone; or consent.ErrOptedOutByText
	// when the field is well formed but conflicts with the ledger (an opt-in
	// over the customer's own STOP).
	Err error
	Msg string
}

func (e *FieldError) Error() string { return "contact: " + e.Field + ": " + e.Msg }

// Unwrap exposes the class of the error to errors.Is.
func (e *FieldError) Unwrap() error { return e.Err }

// Upsert is a contact as a client describes it, before validation.
type Upsert struct {
	LoyaltyID string
	Phones    []string
	Name      string // "" keeps the stored name
	// Attributes must be a JSON object (or absent/null). Its keys are written
	// over the stored ones; a key set to null is removed.
	Attributes json.RawMessage
	Timezone   string // IANA name; "" keeps the stored one
	// Country is the country of phones written without one; "" is the
	// default country of the first consent entry's brand, else
	// DefaultCountry.
	Country string
	Consent []ConsentEntry
	// MadeBy is the console user doing this (0 for the API or an import): a
	// merge it causes is theirs, and an admin can undo it within 7 days.
	MadeBy int64
}

// ConsentEntry is a consent change given with a contact. It is recorded for
// every phone listed in the upsert, or every phone of the contact when none
// is listed.
type ConsentEntry struct {
	Brand    string // slug
	Purpose  string
	Status   string
	Source   string // "" means api
	Evidence string
}

// Service applies Parley's identity rules: who a person is across phones and
// a loyalty ID, and when two records are the same person.
type Service struct {
	st *store.Store
}

// NewService returns the identity service over st.
func NewService(st *store.Store) *Service { return &Service{st: st} }

// Upsert creates or updates a contact. It finds the contact by loyalty ID,
// else by the first listed phone that is known. Listed phones of other
// contacts are resolved by these rules:
//   - a contact without a loyalty ID, or with the same one, is the same
//     person: it is merged into the contact (phones, attributes it lacks,
//     conversations with their messages), its row kept as merged;
//   - a contact with a different loyalty ID is another person who used to
//     have the number: only that phone moves (a recycled number);
//   - with a loyalty ID nobody holds, a listed phone's contact that has no
//     loyalty ID adopts it instead of a new contact being created.
//
// Everything is validated first; a bad field is a *FieldError and nothing is
// written. The changes, merges and consent entries happen in one transaction.
func (s *Service) Upsert(ctx context.Context, in Upsert) (store.UpsertResult, error) {
	up, err := s.validate(ctx, in)
	if err != nil {
		return store.UpsertResult{}, err
	}
	res, err := s.st.UpsertContact(ctx, up)
	if errors.Is(err, store.ErrNoPhones) {
		return res, &FieldError{Field: "consent", Err: ErrInvalid,
			Msg: "the contact has no phone to record consent for; list its phones"}
	}
	if err != nil {
		return res, fmt.Errorf("contact: upsert: %w", err)
	}
	return res, nil
}

func (s *Service) validate(ctx context.Context, in Upsert) (store.ContactUpsert, error) {
	up := store.ContactUpsert{MadeBy: in.MadeBy}
	up.LoyaltyID = strings.TrimSpace(in.LoyaltyID)
	if err := checkText("loyalty_id", up.LoyaltyID, maxLoyaltyID); err != nil {
		return up, err
	}
	if len(in.Phones) > maxPhones {
		return up, &FieldError{"phones", ErrInvalid, fmt.Sprintf("%d phones; at most %d in one request", len(in.Phones), maxPhones)}
	}
	country := in.Country
	if country == "" && len(in.Consent) > 0 && len(in.Phones) > 0 {
		if b, err := s.st.BrandBySlug(ctx, strings.TrimSpace(in.Consent[0].Brand)); err == nil {
			country = b.DefaultCountry
		} // an unknown brand is reported with the consent below
	}
	seen := map[string]bool{}
	for i, raw := range in.Phones {
		p, err := NormalizePhone(raw, country)
		if err != nil {
			return up, &FieldError{fmt.Sprintf("phones[%d]", i), ErrInvalidPhone, err.Error()}
		}
		if !seen[p] {
			seen[p] = true
			up.Phones = append(up.Phones, p)
		}
	}
	if up.LoyaltyID == "" && len(up.Phones) == 0 {
		return up, &FieldError{"phones", ErrMissing, "give a loyalty_id, at least one phone, or both"}
	}
	up.Name = strings.TrimSpace(in.Name)
	if err := checkText("name", up.Name, maxName); err != nil {
		return up, err
	}
	var err error
	if up.SetAttributes, up.DropAttributes, err = parseAttributes(in.Attributes); err != nil {
		return up, err
	}
	up.Timezone = strings.TrimSpace(in.Timezone)
	if up.Timezone != "" {
		if _, err := time.LoadLocation(up.Timezone); err != nil || up.Timezone == "Local" {
			return up, &FieldError{"timezone", ErrInvalid, fmt.Sprintf("%q is not an IANA time zone such as America/Chicago", up.Timezone)}
		}
	}
	if len(in.Consent) > maxConsent {
		return up, &FieldError{"consent", ErrInvalid, fmt.Sprintf("%d entries; at most %d in one request", len(in.Consent), maxConsent)}
	}
	brands := map[string]int64{}
	for i, e := range in.Consent {
		field := func(name string) string { return fmt.Sprintf("consent[%d].%s", i, name) }
		slug := strings.TrimSpace(e.Brand)
		if slug == "" {
			return up, &FieldError{field("brand"), ErrMissing, "is required: the brand's slug"}
		}
		if _, ok := brands[slug]; !ok {
			b, err := s.st.BrandBySlug(ctx, slug)
			if errors.Is(err, store.ErrNotFound) {
				return up, &FieldError{field("brand"), ErrInvalid, fmt.Sprintf("no brand has the slug %q", slug)}
			}
			if err != nil {
				return up, fmt.Errorf("contact: upsert: %w", err)
			}
			brands[slug] = b.ID
		}
		ch := consent.Change{Purpose: e.Purpose, Status: e.Status, Source: e.Source, Evidence: e.Evidence}
		if err := consent.Check(&ch); err != nil {
			var fe *consent.FieldError
			if errors.As(err, &fe) {
				return up, &FieldError{field(fe.Field), ErrInvalid, fe.Msg}
			}
			return up, err
		}
		up.Consent = append(up.Consent, store.ConsentChange{BrandID: brands[slug], Purpose: ch.Purpose, Status: ch.Status,
			Source: ch.Source, Evidence: ch.Evidence})
	}
	if err := s.checkOverrides(ctx, up); err != nil {
		return up, err
	}
	return up, nil
}

// checkOverrides refuses opt-ins that would undo a customer's own opt-out by
// text (consent.CheckOverride) on any phone the entries will be recorded for:
// the listed phones, else the phones of the contact with the loyalty ID. The
// answer is a *FieldError whose Err is consent.ErrOptedOutByText: a conflict
// with the ledger rather than bad input.
//
// It reads the ledger before the upsert's transaction: a STOP arriving in
// between is recorded before the opt-in and is overridden by it, a window of
// milliseconds against a rule about deliberate overrides.
func (s *Service) checkOverrides(ctx context.Context, up store.ContactUpsert) error {
	var risky bool
	for _, c := range up.Consent {
		risky = risky || c.Status == consent.OptedIn
	}
	if !risky {
		return nil
	}
	phones := up.Phones
	if len(phones) == 0 && up.LoyaltyID != "" {
		cs, err := s.st.Contacts(ctx, store.ContactQuery{LoyaltyID: up.LoyaltyID})
		if err != nil {
			return fmt.Errorf("contact: upsert: %w", err)
		}
		for _, c := range cs {
			phones = append(phones, c.Phones...)
		}
	}
	type key struct {
		brand int64
		phone string
	}
	history := map[key][]store.ConsentEvent{}
	for i, c := range up.Consent {
		for _, p := range phones {
			k := key{c.BrandID, p}
			h, ok := history[k]
			if !ok {
				var err error
				if h, err = s.st.ConsentEvents(ctx, c.BrandID, p); err != nil {
					return fmt.Errorf("contact: upsert: %w", err)
				}
			}
			ch := consent.Change{Phone: p, Purpose: c.Purpose, Status: c.Status, Source: c.Source, Evidence: c.Evidence}
			if err := consent.CheckOverride(ch, h); err != nil {
				return &FieldError{fmt.Sprintf("consent[%d]", i), consent.ErrOptedOutByText, err.Error()}
			}
			// Later entries of the request see this one, as the ledger will.
			history[k] = append(h, store.ConsentEvent{BrandID: c.BrandID, Phone: p, Purpose: c.Purpose, Status: c.Status, Source: c.Source})
		}
	}
	return nil
}

// checkText refuses over-long values and control characters, which are always
// a client bug in a name or an identifier.
func checkText(field, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return &FieldError{field, ErrInvalid, fmt.Sprintf("is %d characters; at most %d", n, max)}
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return &FieldError{field, ErrInvalid, "contains control characters or invalid UTF-8"}
	}
	return nil
}

// parseAttributes splits a JSON object into the keys to write and the keys to
// remove (those set to null). Numbers keep their exact text.
func parseAttributes(raw json.RawMessage) (map[string]any, []string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil, nil
	}
	if raw[0] != '{' {
		return nil, nil, &FieldError{"attributes", ErrInvalid, "must be a JSON object, like {\"tier\": \"gold\"}"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, nil, &FieldError{"attributes", ErrInvalid, "must be a JSON object: " + err.Error()}
	}
	if len(m) > maxAttributeKeys {
		return nil, nil, &FieldError{"attributes", ErrInvalid, fmt.Sprintf("%d keys; at most %d", len(m), maxAttributeKeys)}
	}
	set := make(map[string]any, len(m))
	var drop []string
	for k, v := range m {
		if strings.TrimSpace(k) == "" {
			return nil, nil, &FieldError{"attributes", ErrInvalid, "a key is empty"}
		}
		if v == nil {
			drop = append(drop, k)
			continue
		}
		set[k] = v
	}
	return set, drop, nil
}

// Find lists the live contacts with phone and/or loyaltyID (both must match
// when both are given). phone is normalised first; an unusable one is a
// *FieldError, as is giving neither.
func (s *Service) Find(ctx context.Context, phone, loyaltyID string) ([]store.Contact, error) {
	q, err := lookup(phone, loyaltyID)
	if err != nil {
		return nil, err
	}
	cs, err := s.st.Contacts(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("contact: find: %w", err)
	}
	return cs, nil
}

func lookup(phone, loyaltyID string) (store.ContactQuery, error) {
	q := store.ContactQuery{LoyaltyID: strings.TrimSpace(loyaltyID)}
	if strings.TrimSpace(phone) != "" {
		p, err := NormalizeE164(phone)
		if err != nil {
			return q, &FieldError{"phone", ErrInvalidPhone, err.Error()}
		}
		q.Phone = p
	}
	if q.Phone == "" && q.LoyaltyID == "" {
		return q, &FieldError{"phone", ErrMissing, "give phone or loyalty_id"}
	}
	return q, nil
}
