// Package contact knows what a phone number is and who a person is: E.164
// normalisation, and the identity rules (phones, loyalty ID, merges) that the
// store applies.
package contact

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// ErrInvalidPhone is wrapped by every normalisation failure.
var ErrInvalidPhone = errors.New("invalid phone number")

// DefaultCountry is the country of a number written without one (no "+…")
// when the brand names none: Parley's first brands text North Americans.
const DefaultCountry = "US"

var (
	e164     = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	nanp     = regexp.MustCompile(`^\+1[2-9][0-9]{2}[2-9][0-9]{6}$`)
	digits   = regexp.MustCompile(`^[0-9]+$`)
	alphaID  = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	hasAlpha = regexp.MustCompile(`[A-Za-z]`)
	channel  = regexp.MustCompile(`^[a-z]+:\+[1-9][0-9]{7,14}$`)
)

// ValidCountry reports whether code is a two-letter region the phone number
// data knows ("US", "GB", "FR"), as a brand's default country must be.
func ValidCountry(code string) bool {
	return len(code) == 2 && phonenumbers.GetSupportedRegions()[code]
}

// NormalizeE164 is NormalizePhone with DefaultCountry.
func NormalizeE164(s string) (string, error) { return NormalizePhone(s, DefaultCountry) }

// NormalizePhone turns what a person typed ("(212) 555-0123", "+1 212 555
// 0123", "020 7946 0958" for GB, "0044 20 7946 0958") into E.164, with
// libphonenumber's rules and number ranges: a number written without a
// country is read as a number of country (a brand's default, "" is
// DefaultCountry), and the result must be a valid number of its country, not
// only the right length. Letters are refused rather than read as a keypad
// word. Anything else is an error wrapping ErrInvalidPhone that says why.
//
// Results are remembered (see phoneCache): parsing and validating costs some
// microseconds, and the same numbers come back again and again.
func NormalizePhone(s, country string) (string, error) {
	if country == "" {
		country = DefaultCountry
	}
	raw := strings.TrimSpace(s)
	key := country + raw
	if r, ok := phones.get(key); ok {
		return r.phone, r.err
	}
	n, err := normalizePhone(raw, country)
	phones.put(key, phoneResult{n, err})
	return n, err
}

func normalizePhone(raw, country string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPhone)
	}
	var b strings.Builder
	for i, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%w: %q has the character %q", ErrInvalidPhone, raw, r)
		}
	}
	d := b.String()
	var num *phonenumbers.PhoneNumber
	var err error
	if e164.MatchString(d) {
		if num = fromE164(d); num == nil {
			err = phonenumbers.ErrInvalidCountryCode
		}
	} else {
		num, err = phonenumbers.Parse(d, country)
	}
	if (err != nil || !validNumber(num)) && strings.HasPrefix(d, "00") {
		// "00" is the international prefix of most of the world but not of
		// every default country (North America dials 011); people write it
		// anyway.
		if n2, err2 := phonenumbers.Parse("+"+d[2:], country); err2 == nil {
			num, err = n2, nil
		}
	}
	if err != nil {
		if errors.Is(err, phonenumbers.ErrInvalidCountryCode) {
			return "", fmt.Errorf("%w: %q has no known country code (+…)", ErrInvalidPhone, raw)
		}
		return "", fmt.Errorf("%w: %q is not a phone number", ErrInvalidPhone, raw)
	}
	if !validNumber(num) {
		region := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
		if !strings.HasPrefix(d, "+") && !strings.HasPrefix(d, "00") {
			return "", fmt.Errorf("%w: %q is not a valid %s number (write other countries' numbers with +country code)", ErrInvalidPhone, raw, country)
		}
		return "", fmt.Errorf("%w: %q is not a valid %s number", ErrInvalidPhone, raw, region)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// NormalizeSender normalises the From or To of a webhook. A long number
// becomes E.164 when it has a possible length for its country: a carrier's
// word that a text came from a number is not second-guessed against number
// ranges, which lag behind new assignments, because refusing the text would
// lose it. Short codes ("12345"), alphanumeric sender IDs ("DemoAir") and
// channel addresses ("whatsapp:+1…") are kept as they are, because carriers
// really send them.
func NormalizeSender(s string) (string, error) {
	raw := strings.TrimSpace(s)
	if e164.MatchString(raw) {
		if r, ok := senders.get(raw); ok {
			return r.phone, r.err
		}
		r := phoneResult{raw, nil}
		if num := fromE164(raw); num == nil || !phonenumbers.IsPossibleNumber(num) {
			r = phoneResult{"", fmt.Errorf("%w: %q does not have the length of a number of its country", ErrInvalidPhone, raw)}
		}
		senders.put(raw, r)
		return r.phone, r.err
	}
	if n, err := NormalizeE164(raw); err == nil {
		return n, nil
	}
	switch {
	case digits.MatchString(raw) && len(raw) >= 3 && len(raw) <= 8:
		return raw, nil // short code
	case alphaID.MatchString(raw) && hasAlpha.MatchString(raw):
		return raw, nil // alphanumeric sender ID
	case channel.MatchString(raw):
		return raw, nil
	}
	return "", fmt.Errorf("%w: %q is neither a phone number, a short code nor a sender ID", ErrInvalidPhone, raw)
}

// fromE164 splits a number already in E.164 into its country code and
// national number, which is all a length check needs (a full Parse costs
// some microseconds more). nil when no country has the code, or when the
// national number starts with 0 (Italy's numbers keep it, which only Parse
// reads right).
func fromE164(s string) *phonenumbers.PhoneNumber {
	for l := 1; l <= 3 && l < len(s)-1; l++ {
		cc, err := strconv.ParseInt(s[1:1+l], 10, 32) // at most three digits
		if err != nil || phonenumbers.GetRegionCodeForCountryCode(int(cc)) == phonenumbers.UNKNOWN_REGION {
			continue
		}
		if s[1+l] == '0' {
			n, err := phonenumbers.Parse(s, DefaultCountry)
			if err != nil {
				return nil
			}
			return n
		}
		nn, err := strconv.ParseUint(s[1+l:], 10, 64)
		if err != nil {
			return nil
		}
		return &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(cc)), NationalNumber: proto.Uint64(nn)}
	}
	return nil
}

type phoneResult struct {
	phone string
	err   error
}

// phoneCache remembers recent normalisations in two generations: lookups
// read both, writes go to the young one, and when it is full the old one is
// dropped and the young one takes its place. Memory is bounded by twice
// phoneCacheSize entries and a number in use stays remembered.
type phoneCache struct {
	mu         sync.Mutex
	young, old map[string]phoneResult
}

const phoneCacheSize = 1 << 15

var phones, senders phoneCache

func (c *phoneCache) get(k string) (phoneResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.young[k]; ok {
		return r, true
	}
	r, ok := c.old[k]
	return r, ok
}

func (c *phoneCache) put(k string, r phoneResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.young == nil || len(c.young) >= phoneCacheSize {
		c.old, c.young = c.young, make(map[string]phoneResult, 1024)
	}
	c.young[k] = r
}

// Mask hides the middle of a phone number for logs: +1212***0123.
func Mask(phone string) string {
	if len(phone) <= 6 {
		return strings.Repeat("*", len(phone))
	}
	keep := 4
	if len(phone) < 10 {
		keep = 2
	}
	head := len(phone) - keep - 3
	if head > 5 {
		head = 5
	}
	if head < 1 {
		head = 1
	}
	return phone[:head] + strings.Repeat("*", len(phone)-head-keep) + phone[len(phone)-keep:]
}
