package question

import (
	"slices"
	"strings"
)

// ---------------------------------------------------------------------------
// Ratings and NPS

// Strength of a number in a reply: digits, keycaps and stars are surest,
// then number words, then misspelt number words.
const (
	lvlTypo = iota + 1
	lvlWord
	lvlDigit
)

// numVal is a number as written, p/q with q a power of ten ("4.5" is 45/10).
type numVal struct{ p, q int }

// A cand is one number a reply gives.
type cand struct {
	val         int  // on the question's scale
	valid       bool // in range, and a sound fraction
	lvl         int
	first, last int // its tokens
}

// roundHalfUp returns p/q rounded to the nearest whole number, a half going
// up: 4.5 -> 5, 4.4 -> 4, 4.45 -> 4, and 7/10 on a scale of 5 (3.5) -> 4.
// It is the one rounding rule for decimals ("4,5") and for fractions
// brought onto the question's scale ("8/10" asked out of 5). Values here
// are never negative.
func roundHalfUp(p, q int) int { return (2*p + q) / (2 * q) }

// score reads the number a rating or NPS reply gives, on a scale of lo..hi;
// a fraction ("8/10", "4 out of 5") is brought onto a scale of out. It
// returns the value and the tokens of the answer.
func score(toks []token, out, lo, hi int, nps bool) (val, first, last int, ok bool) {
	if unreadableNumbers(toks) {
		return 0, 0, 0, false
	}
	var buf [8]cand
	cands := buf[:0]
	stars, starFirst, starLast := 0, -1, -1
	for i := 0; i < len(toks); {
		t := &toks[i]
		if t.kind == tStar || t.kind == tEmptyStar {
			if t.kind == tStar {
				stars++
			}
			if starFirst < 0 {
				starFirst = i
			}
			starLast = i
			i++
			continue
		}
		v, j, lvl, isNum := numberAt(toks, i, nps)
		if !isNum {
			i++
			continue
		}
		if skip, next := notAScore(toks, i, j); skip {
			i = next
			continue
		}
		if k, half := halfAt(toks, j); half && v.q == 1 {
			v, j = numVal{v.p*10 + 5, 10}, k // "4½", "four and a half"
		}
		if deniedBefore(toks, i) {
			return 0, 0, 0, false // "not a 5", "not even a 1"
		}
		c := cand{lvl: lvl, first: i, val: roundHalfUp(v.p, v.q), valid: true}
		if i > 0 && !t.gap && toks[i-1].isPunct('#') {
			c.first = i - 1
		}
		if d, k, isFrac := denominatorAt(toks, j); isFrac {
			if d < 2 || d > maxScale || v.p > d*v.q {
				c.valid = false // "5/12" is a date, "7/5" no score
			} else {
				c.val = roundHalfUp(v.p*out, v.q*d)
			}
			j = k
		}
		written := -1
		if v.q == 1 {
			written = v.p
		}
		j = unitAfter(toks, j, written)
		c.last = j - 1
		c.valid = c.valid && c.val >= lo && c.val <= hi
		cands = append(cands, c)
		i = j
	}
	if stars > 0 {
		c := cand{val: stars, valid: stars >= lo && stars <= hi, lvl: lvlDigit, first: starFirst, last: starLast}
		at := len(cands)
		for at > 0 && cands[at-1].first > c.first {
			at--
		}
		cands = slices.Insert(cands, at, c)
	}
	best := 0
	for _, c := range cands {
		best = max(best, c.lvl)
	}
	if best == 0 {
		return 0, 0, 0, false
	}
	for k := 1; k < len(cands); k++ {
		if cands[k].val != cands[k-1].val && alternatives(toks, cands[k-1].last+1, cands[k].first) {
			return 0, 0, 0, false // "3 or 4", "between 6 and 7", "3 or four"
		}
	}
	chosen := -1
	for k, c := range cands {
		if c.lvl != best {
			continue
		}
		if !c.valid || chosen >= 0 && c.val != cands[chosen].val {
			return 0, 0, 0, false
		}
		if chosen < 0 {
			chosen = k
		}
	}
	c := cands[chosen]
	last = c.last
	// The same number again right after belongs to the answer ("5/5 ⭐⭐⭐⭐⭐").
	for k := chosen + 1; k < len(cands) && cands[k].val == c.val && onlyPunct(toks, last+1, cands[k].first); k++ {
		last = cands[k].last
	}
	return c.val, c.first, last, true
}

// unreadableNumbers reports a reply whose numbers make any score a guess:
// a long run of digits (a phone number, an order number, "12345"), a
// number with more than two decimals, a phone prefix ("+1") or a negative
// number at the start.
func unreadableNumbers(toks []token) bool {
	keycaps := 0
	for i := range toks {
		t := &toks[i]
		if t.kind != tNum {
			keycaps = 0
			continue
		}
		if t.intDigits > 2 || t.fracDigits > 2 {
			return true
		}
		if t.keycap && !t.gap && keycaps > 0 {
			keycaps++
		} else if t.keycap {
			keycaps = 1
		} else {
			keycaps = 0
		}
		if keycaps > 2 {
			return true
		}
		if i > 0 && !t.gap && (toks[i-1].isPunct('+') || i == 1 && toks[0].isPunct('-')) {
			return true
		}
	}
	return false
}

// numberAt reads a number at toks[i]: digits, keycaps (1️⃣0️⃣ is 10), a
// number word, or a misspelt one ("fvie"). It returns the value, the index
// after it and its strength; "none" is zero on an NPS question only.
func numberAt(toks []token, i int, nps bool) (v numVal, next, lvl int, ok bool) {
	t := &toks[i]
	switch t.kind {
	case tNum:
		if t.keycap {
			n, j := t.intVal, i+1
			for j < len(toks) && toks[j].kind == tNum && toks[j].keycap && !toks[j].gap {
				n = n*10 + toks[j].intVal
				j++
			}
			return numVal{n, 1}, j, lvlDigit, true
		}
		q := 1
		for range t.fracDigits {
			q *= 10
		}
		return numVal{t.intVal*q + t.fracVal, q}, i + 1, lvlDigit, true
	case tWord:
		if t.lex.flags&fNumWord != 0 {
			return numVal{int(t.lex.num), 1}, i + 1, lvlWord, true
		}
		if nps && t.text == "none" {
			return numVal{0, 1}, i + 1, lvlWord, true
		}
		if !misspelt(t) {
			break
		}
		for v, w := range numberWords {
			if sameSqueezed(t.text, w) {
				return numVal{v, 1}, i + 1, lvlWord, true // "fiiive"
			}
		}
		found := -1
		for _, w := range numberTypoTargets {
			if withinEdits(t.text, w, 1) {
				if found >= 0 {
					return numVal{}, i, 0, false // near two numbers
				}
				found = slices.Index(numberWords[:], w)
			}
		}
		if found >= 0 {
			return numVal{found, 1}, i + 1, lvlTypo, true
		}
	}
	return numVal{}, i, 0, false
}

// notAScore reports a number that is not a score, and the index after it:
// an ordinal ("1st time"), a time ("5:30", "5pm", "at 5"), a price or a
// percentage, a count of something ("2 hours", "two kids", "3 questions":
// an unknown word in -s after a number is taken for a plural), the number
// of a thing ("room 5", "gate 12"), a pronoun ("no one", "one of the
// best").
func notAScore(toks []token, i, j int) (bool, int) {
	t := &toks[i]
	if j+1 < len(toks) && (toks[j].isPunct('-') || toks[j].isWord("to") || toks[j].isWord("or")) {
		if _, k, _, isNum := numberAt(toks, j+1, false); isNum && k < len(toks) && toks[k].kind == tWord && toks[k].lex.flags&fUnit != 0 {
			return true, k + 1 // "4-5 min wait", "2 or 3 hours"
		}
	}
	if t.kind == tNum && !t.keycap {
		if j < len(toks) && !toks[j].gap {
			n := &toks[j]
			if n.kind == tWord && ordinalSuffix(n.text) || n.isPunct('%') {
				return true, j + 1
			}
			if n.isPunct(':') && j+1 < len(toks) && toks[j+1].kind == tNum && !toks[j+1].gap {
				return true, j + 2
			}
		}
		if i > 0 && !t.gap && toks[i-1].isPunct('$') {
			return true, j
		}
	}
	if i > 0 && toks[i-1].kind == tWord {
		if f := toks[i-1].lex.flags; f&fNumbered != 0 || t.kind == tWord && f&fDeterminer != 0 {
			return true, j // "room 5", "at 5", "no one"
		}
	}
	if i > 0 && !t.gap && toks[i-1].isPunct('@') {
		return true, j
	}
	if j < len(toks) && toks[j].kind == tWord {
		n := &toks[j]
		if n.lex.flags&fUnit != 0 || n.lex.flags == 0 && len(n.text) >= 4 && strings.HasSuffix(n.text, "s") && !strings.HasSuffix(n.text, "ss") {
			return true, j + 1 // "2 hours", "2 questions"
		}
		if toks[j].text == "of" {
			if _, _, isFrac := denominatorAt(toks, j); !isFrac {
				return true, j + 1
			}
		}
	}
	return false, j
}

// deniedBefore reports a "not" (or "never", "hardly") just before the
// number at toks[i], perhaps with "a" or "even" between: "not a 5".
func deniedBefore(toks []token, i int) bool {
	for k := i - 1; k >= 0 && toks[k].kind == tWord; k-- {
		switch toks[k].text {
		case "a", "an", "even", "quite", "really":
			continue
		case "not", "never", "hardly", "barely":
			return true
		}
		return false
	}
	return false
}

// halfAt reads "½" or "and a half" at toks[j], and returns the index after it.
func halfAt(toks []token, j int) (int, bool) {
	if j < len(toks) && toks[j].kind == tHalf {
		return j + 1, true
	}
	if j+2 < len(toks) && (toks[j].isWord("and") || toks[j].isWord("n") || toks[j].isPunct('&')) &&
		toks[j+1].isWord("a") && toks[j+2].isWord("half") {
		return j + 3, true
	}
	return j, false
}

func ordinalSuffix(w string) bool { return w == "st" || w == "nd" || w == "rd" || w == "th" }

// denominatorAt reads "/5", "out of 5", "outta 10", "of five" at toks[j]:
// the denominator (-1 if it is not a whole number) and the index after it.
func denominatorAt(toks []token, j int) (d, next int, ok bool) {
	if j >= len(toks) {
		return 0, j, false
	}
	k := -1
	switch t := &toks[j]; {
	case t.isPunct('/'):
		k = j + 1
	case t.isWord("out") && j+1 < len(toks) && toks[j+1].isWord("of"):
		k = j + 2
	case t.isWord("outta"), t.isWord("of"):
		k = j + 1
	}
	if k < 0 || k >= len(toks) {
		return 0, j, false
	}
	v, next, _, isNum := numberAt(toks, k, false)
	if !isNum {
		return 0, j, false
	}
	if v.q != 1 {
		return -1, next, true
	}
	return v.p, next, true
}

// unitAfter skips what makes a number a rating: "stars", "4*", and a star
// after it ("5 ⭐") or a row of as many stars as the number ("3 ★★★☆☆").
func unitAfter(toks []token, j, written int) int {
	if j >= len(toks) {
		return j
	}
	t := &toks[j]
	switch {
	case t.isPunct('*') && !t.gap, t.kind == tWord && t.lex.flags&fRatingUnit != 0:
		return j + 1
	case t.kind == tStar || t.kind == tEmptyStar:
		k, filled := j, 0
		for k < len(toks) && (toks[k].kind == tStar || toks[k].kind == tEmptyStar) {
			if toks[k].kind == tStar {
				filled++
			}
			k++
		}
		if filled == 1 || filled == written {
			return k
		}
	}
	return j
}

// alternatives reports whether toks[a:b] join two numbers as a choice or a
// range: "or", "to", "and", "-", "/", "~".
func alternatives(toks []token, a, b int) bool {
	if a >= b {
		return false
	}
	for k := a; k < b; k++ {
		t := &toks[k]
		switch t.kind {
		case tWord:
			switch t.text {
			case "or", "to", "and", "til", "till", "between", "either":
			default:
				return false
			}
		case tPunct:
			if !strings.ContainsAny(t.text, "-/~,") {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func onlyPunct(toks []token, a, b int) bool {
	for k := a; k < b; k++ {
		if toks[k].kind != tPunct {
			return false
		}
	}
	return true
}
