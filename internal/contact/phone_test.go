package contact_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/contact"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, country, want string
		errHas            string
	}{
		{"(212) 555-0123", "", "+12125550123", ""},
		{"212.555.0123", "US", "+12125550123", ""},
		{"1 212 555 0123", "US", "+12125550123", ""},
		{" +1 212 555 0123 ", "GB", "+12125550123", ""},
		{"020 7946 0958", "GB", "+442079460958", ""},
		{"0044 20 7946 0958", "US", "+442079460958", ""},
		{"011 44 20 7946 0958", "US", "+442079460958", ""},
		{"06 12 34 56 78", "FR", "+33612345678", ""},
		{"416-555-0123", "CA", "+14165550123", ""},
		{"020 7946 0958", "US", "", "not a valid US number"},
		{"+1 555 123 4567", "US", "", "not a valid US number"}, // 555 is not an area code
		{"+44 7700 900123", "US", "", "not a valid GB number"}, // reserved for drama
		{"212555012", "US", "", "not a valid US number"},
		{"+999 1234 5678", "US", "", "no known country code"},
		{"1-800-FLOWERS", "US", "", "the character 'F'"},
		{"", "US", "", "empty"},
	}
	for _, tt := range tests {
		got, err := contact.NormalizePhone(tt.in, tt.country)
		if tt.errHas == "" {
			if err != nil || got != tt.want {
				t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tt.in, tt.country, got, err, tt.want)
			}
			continue
		}
		if err == nil || !errors.Is(err, contact.ErrInvalidPhone) || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want an error saying %q", tt.in, tt.country, got, err, tt.errHas)
		}
		// Remembered results are the same results.
		if again, err2 := contact.NormalizePhone(tt.in, tt.country); again != got || (err2 == nil) != (err == nil) {
			t.Errorf("second NormalizePhone(%q) = %q, %v", tt.in, again, err2)
		}
	}
}

func TestNormalizeSender(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"+12125550123", "+12125550123"},
		{"+15551234567", "+15551234567"}, // not a real range, but carriers' senders are not second-guessed
		{"+447700900123", "+447700900123"},
		{"22395", "22395"},
		{"DemoAir", "DemoAir"},
		{"whatsapp:+12125550123", "whatsapp:+12125550123"},
		{"(212) 555-0123", "+12125550123"},
		{"+390612345678", "+390612345678"}, // Rome keeps its 0
	}
	for _, tt := range tests {
		if got, err := contact.NormalizeSender(tt.in); err != nil || got != tt.want {
			t.Errorf("NormalizeSender(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"+1212", "+121255501234567", "+99912345678", "+4412", "Demo-Air!", ""} {
		if got, err := contact.NormalizeSender(bad); err == nil {
			t.Errorf("NormalizeSender(%q) = %q; want an error", bad, got)
		}
	}
}

func TestValidCountry(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{"US": true, "GB": true, "FR": true, "CA": true, "us": false, "XX": false, "USA": false, "": false} {
		if got := contact.ValidCountry(code); got != want {
			t.Errorf("ValidCountry(%q) = %v", code, got)
		}
	}
}

func BenchmarkNormalizePhone(b *testing.B) {
	b.Run("remembered", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := contact.NormalizePhone("+12125550123", "US"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkNormalizeSender(b *testing.B) {
	for i := 0; i < b.N; i++ {
		// A new number each time: the cost without the cache.
		if _, err := contact.NormalizeSender("+1212" + strconv.Itoa(5_000_000+i%4_000_000)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizePhoneNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := contact.NormalizePhone("+1212"+strconv.Itoa(5_000_000+i%4_000_000), "US"); err != nil {
			b.Fatal(err)
		}
	}
}
