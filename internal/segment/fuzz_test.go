package segment

import (
	"testing"
	"unicode/utf16"
)

// FuzzCount: every text is at least one segment of GSM-7 or UCS-2, and the
// segments hold it: no more than one segment beyond what its length needs.
func FuzzCount(f *testing.F) {
	for _, s := range []string{"", "hi", "€uro", "Ünïcödé", "😀", string(make([]byte, 161)), "a{b}c[d]~^|\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		n, enc := Count(body)
		if n < 1 {
			t.Fatalf("%q: %d segments", body, n)
		}
		switch enc {
		case GSM7:
			if n > 1 && len([]rune(body))*2 < 153*(n-1) {
				t.Fatalf("%q: %d GSM-7 segments for %d characters", body, n, len([]rune(body)))
			}
		case UCS2:
			units := len(utf16.Encode([]rune(body)))
			if n > 1 && units <= 70 || units > 67*n && n > 1 || n == 1 && units > 70 {
				t.Fatalf("%q: %d UCS-2 segments for %d units", body, n, units)
			}
		default:
			t.Fatalf("encoding %q", enc)
		}
	})
}
