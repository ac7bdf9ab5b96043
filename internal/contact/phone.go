// Package contact knows what a phone number is and who a person is: E.164
// normalisation, and the identity rules (phones, loyalty ID, merges) that the
// store applies.
package contact

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrInvalidPhone is wrapped by every normalisation failure.
var ErrInvalidPhone = errors.New("invalid phone number")

var (
	e164     = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	nanp     = regexp.MustCompile(`^\+1[2-9][0-9]{2}[2-9][0-9]{6}$`)
	digits   = regexp.MustCompile(`^[0-9]+$`)
	alphaID  = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	hasAlpha = regexp.MustCompile(`[A-Za-z]`)
	channel  = regexp.MustCompile(`^[a-z]+:\+[1-9][0-9]{7,14}$`)
)

// NormalizeE164 turns what a person typed ("(212) 555-0123", "+1 212 555 0123",
// "0044 20 7946 0958") into E.164. Ten-digit numbers are taken as North
// American. Anything else is an error wrapping ErrInvalidPhone that says why.
func NormalizeE164(s string) (string, error) {
	raw := strings.TrimSpace(s)
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
	n := b.String()
	switch {
	case strings.HasPrefix(n, "+"):
	case strings.HasPrefix(n, "00"):
		n = "+" + n[2:]
	case len(n) == 10:
		n = "+1" + n
	case len(n) == 11 && n[0] == '1':
		n = "+" + n
	default:
		return "", fmt.Errorf("%w: %q needs a country code (+…)", ErrInvalidPhone, raw)
	}
	if !e164.MatchString(n) {
		return "", fmt.Errorf("%w: %q is not a valid international number", ErrInvalidPhone, raw)
	}
	if strings.HasPrefix(n, "+1") && !nanp.MatchString(n) {
		return "", fmt.Errorf("%w: %q is not a valid North American number", ErrInvalidPhone, raw)
	}
	return n, nil
}

// NormalizeSender normalises the From or To of a webhook. Long numbers become
// E.164; short codes ("12345"), alphanumeric sender IDs ("DemoAir") and
// channel addresses ("whatsapp:+1…") are kept as they are, because carriers
// really send them.
func NormalizeSender(s string) (string, error) {
	raw := strings.TrimSpace(s)
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
