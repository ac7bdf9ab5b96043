package question

import (
	"strings"
	"unicode"
)

// ---------------------------------------------------------------------------
// Comments

// commentFor returns what the reply said besides its answer (toks[first]
// to toks[last]): what followed it, trimmed of leading punctuation and
// emoji, or failing that what came before it; neither counts if it is only
// fillers and courtesies. strict asks more of what followed (choices): "a
// window seat" has no comment, "Risotto, no mushrooms" has one.
func commentFor(text string, toks []token, first, last int, strict bool) string {
	if saysSomething(toks[last+1:], strict) {
		return trimLead(text[toks[last].end:])
	}
	if first > 0 && saysSomething(toks[:first], false) {
		return trimTail(text[:toks[first].start])
	}
	return ""
}

func saysSomething(toks []token, strict bool) bool {
	n := 0
	for i := range toks {
		t := &toks[i]
		switch {
		case t.kind == tNum, t.kind == tWord && t.lex.flags&(fFiller|fCourtesy) == 0:
			n++
		case strict && t.kind == tWord && t.lex.flags&fNegator != 0:
			n++ // "risotto no cheese"
		}
	}
	if n == 0 || !strict {
		return n > 0
	}
	return n >= 2 || toks[0].kind == tPunct
}

// trimLead drops what separates an answer from its comment: white space,
// punctuation, emoji ("10!!! loved it" -> "loved it").
func trimLead(s string) string {
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("(\"'“‘[#@$€£¿¡", r) {
			return strings.TrimRightFunc(s[i:], unicode.IsSpace)
		}
	}
	return ""
}

func trimTail(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—/|([{", r)
	})
}
