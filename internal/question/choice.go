package question

import (
	"fmt"
	"slices"
	"strings"
)

// ---------------------------------------------------------------------------
// Choices

// choiceInfo is a listed choice, folded for matching.
type choiceInfo struct {
	words    []string // its words and numbers, folded
	distinct []string // those that name it alone: not in another choice, not "the"
	from, to int      // its tokens, while the choices are folded
}

func prepareChoices(list []string) ([]choiceInfo, error) {
	if len(list) < minChoices || len(list) > maxChoices {
		return nil, &SpecError{"choices", fmt.Sprintf("a choice question lists %d to %d choices, got %d", minChoices, maxChoices, len(list))}
	}
	// All the choices are folded in one pass, into one string.
	size := 0
	for _, c := range list {
		size += len(c)
	}
	l := newLexer(size)
	infos := make([]choiceInfo, len(list))
	for i, c := range list {
		c = strings.TrimSpace(c)
		if c == "" {
			return nil, &SpecError{"choices", fmt.Sprintf("choice %d is empty", i+1)}
		}
		infos[i].from = len(l.toks)
		l.scan(c)
		infos[i].to = len(l.toks)
	}
	toks := l.finish()
	words := make([]string, 0, len(toks))
	for i := range infos {
		from := len(words)
		for _, t := range toks[infos[i].from:infos[i].to] {
			if t.kind == tWord || t.kind == tNum {
				words = append(words, t.text)
			}
		}
		infos[i].words = words[from:len(words):len(words)]
		for j := range i {
			same := slices.Equal(infos[j].words, infos[i].words)
			if len(infos[i].words) == 0 { // emoji and punctuation only
				same = strings.EqualFold(strings.TrimSpace(list[j]), strings.TrimSpace(list[i]))
			}
			if same {
				return nil, &SpecError{"choices", fmt.Sprintf("choices %d and %d are the same once case and accents are ignored (%q and %q)", j+1, i+1, list[j], list[i])}
			}
		}
	}
	distinct := make([]string, 0, len(words))
	for i := range infos {
		from := len(distinct)
		for k, w := range infos[i].words {
			if slices.Contains(infos[i].words[:k], w) || lexicon[w].flags&fChoiceStop != 0 || len(w) < 3 && !allDigits(w) {
				continue
			}
			shared := false
			for j := range infos {
				if j != i && slices.Contains(infos[j].words, w) {
					shared = true
					break
				}
			}
			if !shared {
				distinct = append(distinct, w)
			}
		}
		infos[i].distinct = distinct[from:len(distinct):len(distinct)]
	}
	return infos, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// A pick is one way a reply names a choice.
type pick struct {
	c           int // 0-based
	first, last int
	valid       bool // false: a letter or a number with no such choice
}

// pickChoice reads which choice a reply names: by its text ("aisle
// please", "creme brulee", "a window seat", "aisel"), its letter ("B",
// "b)", "(b)"), its number ("2", "#2", "option 3") or its place ("the
// second one", "3rd", "the last one"). Every way it is named must agree.
func pickChoice(infos []choiceInfo, toks []token) (idx, first, last int, ok bool) {
	n := len(infos)
	var wsBuf [16]int
	ws := wsBuf[:0] // the words and numbers
	for i := range toks {
		if toks[i].kind == tWord || toks[i].kind == tNum {
			ws = append(ws, i)
		}
	}
	var pickBuf [8]pick
	picks := pickBuf[:0]
	marks := make([]bool, 2*len(toks))
	phrased := marks[:len(toks)] // inside a choice's whole text
	named := marks[len(toks):]   // names a choice by its text

	// The whole text of a choice, word for word.
	var hitBuf [8]pick
	hits := hitBuf[:0]
	for c := range infos {
		cw := infos[c].words
		if len(cw) == 0 {
			continue
		}
		for k := 0; k+len(cw) <= len(ws); k++ {
			matched := true
			for m, w := range cw {
				if toks[ws[k+m]].text != w {
					matched = false
					break
				}
			}
			if matched {
				hits = append(hits, pick{c, ws[k], ws[k+len(cw)-1], true})
			}
		}
	}
	for _, h := range hits {
		inside := false // "Pasta" inside "Pasta carbonara" names the longer one
		for _, g := range hits {
			if g.c != h.c && g.first <= h.first && h.last <= g.last && g.last-g.first > h.last-h.first {
				inside = true
				break
			}
		}
		if !inside {
			picks = append(picks, h)
			for k := h.first; k <= h.last; k++ {
				phrased[k], named[k] = true, true
			}
		}
	}
	// A word only one choice has, or a misspelling of one.
	for _, i := range ws {
		if phrased[i] || toks[i].kind == tWord && toks[i].lex.flags&fChoiceStop != 0 {
			continue
		}
		if c := wordChoice(infos, &toks[i]); c >= 0 {
			picks = append(picks, pick{c, i, i, true})
			named[i] = true
		}
	}
	for _, p := range picks {
		if negated(toks, p.first, true) {
			return 0, 0, 0, false // "not the window"
		}
	}
	// A letter: alone ("B", "option b") or as a list marker ("b)", "(b)", "B. aisle").
	substantive := 0
	for _, i := range ws {
		if toks[i].kind == tNum || toks[i].lex.flags&(fOptionWord|fCourtesy) == 0 {
			substantive++
		}
	}
	for k, i := range ws {
		t := &toks[i]
		if t.kind != tWord || len(t.text) != 1 || t.text[0] < 'a' || t.text[0] > 'z' || n > 26 {
			continue
		}
		alone := substantive == 1
		marker := k == 0 && i+1 < len(toks) && !toks[i+1].gap &&
			(toks[i+1].isPunct(')') || toks[i+1].isPunct('.') || toks[i+1].isPunct(':'))
		if !alone && !marker {
			continue
		}
		pos := int(t.text[0] - 'a')
		if pos >= n && !alone {
			continue // "I. think..." is not choice I
		}
		p := pick{pos, i, i, pos < n}
		if i > 0 && toks[i-1].isPunct('(') {
			p.first = i - 1
		}
		if marker {
			p.last = i + 1
		}
		picks = append(picks, p)
	}
	// A number or a place.
	for k := 0; k < len(ws); k++ {
		i := ws[k]
		t := &toks[i]
		if phrased[i] {
			continue
		}
		pos, end, isPlace := 0, i, false
		switch {
		case t.kind == tNum && t.fracDigits == 0 && t.intDigits <= 2 && i+1 < len(toks) &&
			toks[i+1].kind == tWord && !toks[i+1].gap && ordinalSuffix(toks[i+1].text):
			pos, end, isPlace = t.intVal, i+1, true // "2nd"
		case t.kind == tWord && t.lex.flags&fOrdinal != 0:
			pos, isPlace = int(t.lex.num), true
			switch pos {
			case ordLast:
				pos = n
			case ordLatter, ordFormer:
				if n != 2 {
					continue
				}
				pos = 2
				if t.lex.num == ordFormer {
					pos = 1
				}
			}
		case t.kind == tNum && t.fracDigits == 0 && t.intDigits <= 2:
			pos = t.intVal
			if t.keycap {
				v, j, _, _ := numberAt(toks, i, false)
				pos, end = v.p, j-1
			}
		case t.kind == tWord && t.lex.flags&fNumWord != 0:
			// A number word is a choice only first ("two please") or after
			// "option": "the vegan one" and "the aisle one" are no first choice.
			if afterOption := i > 0 && toks[i-1].kind == tWord && toks[i-1].lex.flags&fOptionWord != 0; k > 0 && !afterOption {
				continue
			}
			pos = int(t.lex.num)
		default:
			continue
		}
		if isPlace && end+1 < len(toks) && (toks[end+1].isWord("one") || toks[end+1].isWord("option") || toks[end+1].isWord("choice")) {
			end++ // "the second one"
		}
		for k+1 < len(ws) && ws[k+1] <= end {
			k++
		}
		p := pick{pos - 1, i, end, pos >= 1 && pos <= n}
		marked := false
		if !isPlace {
			if i > 0 && !t.gap && toks[i-1].isPunct('#') {
				marked, p.first = true, i-1
			}
			b := p.first - 1
			if b >= 0 && toks[b].isPunct('.') {
				b-- // "no. 2"
			}
			if b >= 0 && toks[b].kind == tWord && toks[b].lex.flags&fOptionWord != 0 {
				marked, p.first = true, b
			}
		}
		if !marked && !followsChoice(toks, end+1, named) {
			continue // "2 people" counts people
		}
		if named[i] && !p.valid {
			continue // "10" naming "10am" is no tenth choice
		}
		if negated(toks, p.first, false) {
			return 0, 0, 0, false
		}
		picks = append(picks, p)
	}
	if len(picks) == 0 {
		return 0, 0, 0, false
	}
	idx, first, last = picks[0].c, picks[0].first, picks[0].last
	for _, p := range picks {
		if !p.valid || p.c != idx {
			return 0, 0, 0, false
		}
		first, last = min(first, p.first), max(last, p.last)
	}
	return idx, first, last, true
}

// wordChoice returns the choice a word names alone, exactly, stretched
// ("risottooo") or misspelt ("aisel", "risoto": one edit for a word of 5
// to 7 letters, two from 8), or -1.
func wordChoice(infos []choiceInfo, t *token) int {
	w := t.text
	for c := range infos {
		if slices.Contains(infos[c].distinct, w) {
			return c
		}
	}
	if t.kind != tWord || t.lex.flags != 0 || len(w) < 4 || !isASCII(w) {
		return -1
	}
	found := -1
	for c := range infos {
		for _, d := range infos[c].distinct {
			k := 1
			if len(d) >= 8 {
				k = 2
			}
			if sameSqueezed(w, d) || len(d) >= 5 && isASCII(d) && withinEdits(w, d, k) {
				if found >= 0 && found != c {
					return -1 // near two choices
				}
				found = c
			}
		}
	}
	return found
}

// negated reports a "not", "no", "never", "don't" or "but" before toks[i]
// in the same clause ("not the window", "anything but middle", "don't put
// me in the middle"). Before a number, "no" is "number" ("no 2").
func negated(toks []token, i int, noNegates bool) bool {
	for k := i - 1; k >= 0 && toks[k].kind != tPunct; k-- {
		if t := &toks[k]; t.kind == tWord && t.lex.flags&fNegator != 0 && (noNegates || t.text != "no") {
			return true
		}
	}
	return false
}

// followsChoice reports whether toks[j] may follow a choice given by
// number: nothing, punctuation, a courtesy, "is fine", or the choice's
// own text ("2 aisle").
func followsChoice(toks []token, j int, named []bool) bool {
	if j >= len(toks) {
		return true
	}
	t := &toks[j]
	switch t.kind {
	case tWord:
		return named[j] || t.lex.flags&(fCourtesy|fFollower|fOptionWord) != 0
	default:
		return true // punctuation, a mark, or another number ("2 3": both are picks)
	}
}
