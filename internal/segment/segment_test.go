package segment

import (
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		segments int
		encoding string
	}{
		{"empty", "", 1, GSM7},
		{"short", "Hello", 1, GSM7},
		{"160 gsm", strings.Repeat("a", 160), 1, GSM7},
		{"161 gsm", strings.Repeat("a", 161), 2, GSM7},
		{"306 gsm", strings.Repeat("a", 306), 2, GSM7},
		{"307 gsm", strings.Repeat("a", 307), 3, GSM7},
		{"extended counts two", strings.Repeat("a", 158) + "€", 1, GSM7},
		{"extended over the edge", strings.Repeat("a", 159) + "{", 2, GSM7},
		{"gsm accents", "Café à Ñoño", 1, GSM7},
		{"ú is not gsm", "Ñandú", 1, UCS2},
		{"70 ucs2", strings.Repeat("ж", 70), 1, UCS2},
		{"71 ucs2", strings.Repeat("ж", 71), 2, UCS2},
		{"134 ucs2", strings.Repeat("ж", 134), 2, UCS2},
		{"135 ucs2", strings.Repeat("ж", 135), 3, UCS2},
		{"emoji is two units", strings.Repeat("a", 68) + "😀", 1, UCS2},
		{"emoji over the edge", strings.Repeat("a", 69) + "😀", 2, UCS2},
		{"one ucs2 char switches all", strings.Repeat("a", 100) + "ç", 2, UCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, enc := Count(tt.body)
			if n != tt.segments || enc != tt.encoding {
				t.Fatalf("Count(%q) = %d %s, want %d %s", tt.body, n, enc, tt.segments, tt.encoding)
			}
		})
	}
}

func TestUCS2Chars(t *testing.T) {
	t.Parallel()
	got := string(UCS2Chars("Hi 😀 there ç 😀 {ok}"))
	if got != "😀ç" {
		t.Fatalf("UCS2Chars = %q, want %q", got, "😀ç")
	}
}
