// Package segment counts how many SMS segments a text costs, the way carriers
// split it: GSM-7 (160 characters, 153 per part when split, extended characters
// counting twice) or, as soon as one character is outside GSM-7, UCS-2 (70, or
// 67 per part, counted in UTF-16 code units).
package segment

import "unicode/utf16"

// Encoding names.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// GSMBasic is the GSM 03.38 basic character set (one unit each); the
// console's counter reads it from the page so both count alike.
const GSMBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// GSMExtended is the extension table: each character costs two units.
const GSMExtended = "^{}\\[]~|€\f"

var basic, extended = runeSet(GSMBasic), runeSet(GSMExtended)

func runeSet(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Count returns the number of segments and the encoding of body. An empty body
// (an MMS with only media) counts as one segment.
func Count(body string) (segments int, encoding string) {
	units, gsm := 0, true
	for _, r := range body {
		switch {
		case basic[r]:
			units++
		case extended[r]:
			units += 2
		default:
			gsm = false
		}
		if !gsm {
			break
		}
	}
	if gsm {
		return split(units, 160, 153), GSM7
	}
	return split(len(utf16.Encode([]rune(body))), 70, 67), UCS2
}

// UCS2Chars reports the characters that force body out of GSM-7, so an editor can
// say which character made a text cost more.
func UCS2Chars(body string) []rune {
	var out []rune
	seen := map[rune]bool{}
	for _, r := range body {
		if !basic[r] && !extended[r] && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func split(units, single, part int) int {
	if units <= single {
		return 1
	}
	return (units + part - 1) / part
}
