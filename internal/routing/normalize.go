// Package routing decides what happens to an inbound text before a person
// sees it: which auto-reply answers it, whether the brand is open, whether an
// acknowledgement is due after hours, and whether automation must stay
// silent because it would talk in circles. Every decision is a pure function
// of the message, the contact, the conversation, the brand's settings and
// the clock, so it is table-tested without a database; the inbound pipeline
// gathers the inputs and commits the effects with the message.
package routing

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize folds a text for keyword matching: lower case, accents removed
// ("Menú" → "menu"), punctuation and symbols turned into spaces, runs of
// spaces collapsed, trimmed. "¿Horário?!" and "horario" are the same word.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading spaces
	if !isASCII(s) {
		s = norm.NFD.String(s) // letters and their accents apart
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
