package question

import (
	"strings"
)

// ---------------------------------------------------------------------------
// Yes or no

// yesNo reads a yes/no reply: 1 for yes, 0 for no. The answer is the first
// thing the reply says after greetings and fillers ("Thanks! Yes", "I think
// so"), with any yes or no right after it that agrees ("yeah sure"); one
// that disagrees ("yes, no wait") or hedges ("yes maybe") leaves it unread.
// A reply that starts with something else may end with its answer after a
// break ("The flight was late, so no"), provided nothing in it hedges.
func yesNo(toks []token) (val, first, last int, ok bool) {
	words := 0
	for i := range toks {
		if t := &toks[i]; t.kind == tNum || t.kind == tWord && t.lex.flags&fCourtesy == 0 {
			words++
		}
	}
	standalone := words == 1 // "Y", "k thx": a single letter is an answer alone
	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		if t.kind == tPunct {
			continue
		}
		pol, next := yesNoAt(toks, i, standalone)
		if pol != polNone {
			return chain(toks, i, pol, next, standalone)
		}
		if t.kind != tWord || t.lex.flags&(fFiller|fCourtesy) == 0 {
			break
		}
	}
	// The answer at the end, after a break.
	e := len(toks) - 1
	for e >= 0 && (toks[e].kind == tPunct || toks[e].kind == tWord && toks[e].lex.flags&fCourtesy != 0) {
		e--
	}
	for s := max(1, e-3); s <= e; s++ { // the longest expression first
		pol, next := yesNoAt(toks, s, standalone)
		if next != e+1 || pol == polNone {
			continue
		}
		if pol != polYes && pol != polNo {
			return 0, 0, 0, false // "..., not sure"
		}
		if !afterBreak(&toks[s-1]) {
			continue
		}
		for k := range s {
			if p, _ := yesNoAt(toks, k, false); p == polUnsure {
				return 0, 0, 0, false
			}
		}
		return boolVal(pol), s, e, true
	}
	return 0, 0, 0, false
}

// afterBreak reports whether t ends what comes before an answer at the end
// of a reply: "late, no", "late. No", "late so no".
func afterBreak(t *token) bool {
	return t.kind == tPunct && strings.ContainsAny(t.text, ",.-!:;") || t.isWord("so")
}

// chain extends the answer starting at toks[first] over the yes and no
// words right after it, which must agree.
func chain(toks []token, first int, pol polarity, next int, standalone bool) (val, f, last int, ok bool) {
	if pol != polYes && pol != polNo {
		return 0, 0, 0, false
	}
	last = next - 1
	for {
		k := next
		for k < len(toks) && toks[k].kind == tPunct {
			k++
		}
		if k >= len(toks) {
			break
		}
		p, n := yesNoAt(toks, k, standalone)
		if p == polNone || p == polPolite {
			break // "yes, no problem": the rest is a comment
		}
		if p != pol {
			return 0, 0, 0, false
		}
		next, last = n, n-1
	}
	return boolVal(pol), first, last, true
}

func boolVal(p polarity) int {
	if p == polYes {
		return 1
	}
	return 0
}

// yesNoAt reads a yes/no expression at toks[i]: its polarity and the index
// after it, or polNone.
func yesNoAt(toks []token, i int, standalone bool) (polarity, int) {
	t := &toks[i]
	switch t.kind {
	case tYesMark:
		return polYes, i + 1
	case tNoMark:
		return polNo, i + 1
	case tWord:
	default:
		return polNone, i
	}
	for _, p := range phrases[t.text] {
		if i+len(p.words) > len(toks) {
			continue
		}
		matched := true
		for k, w := range p.words {
			if !toks[i+k].isWord(w) {
				matched = false
				break
			}
		}
		if matched {
			return p.pol, i + len(p.words)
		}
	}
	f := t.lex.flags
	switch {
	case f&fUnsure != 0:
		return polUnsure, i + 1
	case f&fYes != 0:
		if t.text == "please" || t.text == "right" || t.text == "correct" {
			// Yes only at the end of a clause or before another yes: not
			// "please stop texting me", "right now I'm busy".
			if i+1 < len(toks) && toks[i+1].kind == tWord && toks[i+1].lex.flags&(fYes|fCourtesy|fAuxYes) == 0 {
				return polNone, i
			}
		}
		return polYes, i + 1
	case f&fNo != 0:
		return polNo, i + 1
	case f&(fAuxYes|fAuxNo) != 0:
		if i+1 < len(toks) && (toks[i+1].kind == tWord || toks[i+1].kind == tNum) {
			return polNone, i // "it is still broken" says neither
		}
		if f&fAuxNo != 0 {
			return polNo, i + 1
		}
		return polYes, i + 1
	}
	if len(t.text) == 1 {
		if standalone {
			switch t.text {
			case "y", "k":
				return polYes, i + 1
			case "n":
				return polNo, i + 1
			}
		}
		return polNone, i
	}
	if t.lex.flags != 0 || !isASCII(t.text) {
		return polNone, i
	}
	for _, s := range squeezeTargets {
		if sameSqueezed(t.text, s.w) {
			return s.pol, i + 1 // "yesss", "noooo"
		}
	}
	if !misspelt(t) {
		return polNone, i
	}
	found := polNone
	for _, s := range yesNoTypoTargets {
		if !withinEdits(t.text, s.w, 1) {
			continue
		}
		switch {
		case s.pol == polUnsure || found == polUnsure:
			found = polUnsure // "mabye": a hedge wins
		case found == polNone:
			found = s.pol
		case found != s.pol:
			return polNone, i // near both yes and no
		}
	}
	if found == polNone {
		return polNone, i
	}
	return found, i + 1
}
