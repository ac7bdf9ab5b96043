package question

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ---------------------------------------------------------------------------
// Tokens

type tokKind uint8

const (
	tWord      tokKind = iota + 1 // letters, folded
	tNum                          // digits, perhaps with a decimal part
	tStar                         // a filled star: ⭐ 🌟 ★
	tEmptyStar                    // an empty star: ☆ ✩ (part of a star rating, worth nothing)
	tYesMark                      // 👍 ✅ ✔ ☑ ✓ 👌 🆗
	tNoMark                       // 👎 ❌ ❎ ✖ ✗ ✘ 🚫
	tPunct                        // one punctuation mark, as ASCII
	tHalf                         // ½
)

// A token is one word, number, star, mark or punctuation in a reply. White
// space, emoji that mean nothing here and invalid bytes separate tokens but
// are not tokens themselves.
type token struct {
	kind tokKind
	// gap is true when something (white space, an emoji, an invalid byte)
	// separates this token from the one before, and for the first token.
	gap bool
	// keycap is true for a keycap digit (5️⃣, 🔟).
	keycap bool
	// text is the folded text: a word in lower case without accents or
	// apostrophes ("Don’t" -> "dont", "Crème" -> "creme"), a number's
	// digits in ASCII ("4.5" for "4,5"), a punctuation mark as ASCII.
	text string
	lex  lexeme // what a word is known to be
	// start and end are the token's bytes in the reply.
	start, end int
	fs, fe     int // the token's text in the folded buffer, while tokenizing
	// A number's integer and decimal parts: digit counts and values (the
	// values stop growing after 9 digits; such numbers are never answers).
	intDigits, intVal   int
	fracDigits, fracVal int
}

func (t *token) isPunct(c byte) bool  { return t.kind == tPunct && t.text[0] == c }
func (t *token) isWord(w string) bool { return t.kind == tWord && t.text == w }

type lexer struct {
	s    string
	toks []token
	fold []byte
	gap  bool
}

// tokenize splits a reply into tokens. It reads any bytes, valid UTF-8 or
// not, in one pass; the folded text of every token shares one string.
func tokenize(s string) []token {
	l := newLexer(len(s))
	l.scan(s)
	return l.finish()
}

func newLexer(size int) *lexer {
	return &lexer{toks: make([]token, 0, 4+size/3), fold: make([]byte, 0, size+2)}
}

// scan adds the tokens of s; several texts may be scanned in turn, each
// token's start and end being in its own text.
func (l *lexer) scan(s string) {
	l.s, l.gap = s, true
	for i := 0; i < len(s); {
		i = l.step(i)
	}
}

// finish gives every token its text, all in one string.
func (l *lexer) finish() []token {
	folded := string(l.fold)
	for k := range l.toks {
		t := &l.toks[k]
		t.text = folded[t.fs:t.fe]
		if t.kind == tWord {
			t.lex = lexicon[t.text]
		}
	}
	return l.toks
}

func (l *lexer) step(i int) int {
	s := l.s
	if c := s[i]; c < utf8.RuneSelf {
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			return l.word(i)
		case '0' <= c && c <= '9':
			return l.number(i)
		case c > ' ' && c < 0x7f:
			l.punct(i, i+1, c)
		default: // white space and control characters
			l.gap = true
		}
		return i + 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	end := i + size
	switch {
	case r == utf8.RuneError && size == 1:
		l.gap = true
	case r == '⭐' || r == '🌟' || r == '★':
		l.emit(tStar, i, end)
	case r == '☆' || r == '✩':
		l.emit(tEmptyStar, i, end)
	case r == '½':
		l.emit(tHalf, i, end)
	case r == '🔟':
		fs := len(l.fold)
		l.fold = append(l.fold, "10"...)
		l.emitTok(token{kind: tNum, keycap: true, intDigits: 2, intVal: 10}, i, end, fs)
	case r == '👍' || r == '✅' || r == '✔' || r == '☑' || r == '✓' || r == '👌' || r == '🆗':
		l.emit(tYesMark, i, end)
	case r == '👎' || r == '❌' || r == '❎' || r == '✖' || r == '✗' || r == '✘' || r == '🚫':
		l.emit(tNoMark, i, end)
	case r >= '０' && r <= '９':
		return l.number(i)
	case transparent(r):
		// Variation selectors, joiners, skin tones: part of what they follow.
	case unicode.IsLetter(r):
		return l.word(i)
	case unicode.IsSpace(r):
		l.gap = true
	default:
		if p := punctOf(r); p != 0 {
			l.punct(i, end, p)
		} else {
			l.gap = true // an emoji or other symbol that means nothing here
		}
	}
	return end
}

func (l *lexer) emit(k tokKind, start, end int) { l.emitTok(token{kind: k}, start, end, len(l.fold)) }

func (l *lexer) emitTok(t token, start, end, fs int) {
	t.start, t.end, t.fs, t.fe, t.gap = start, end, fs, len(l.fold), l.gap
	l.toks = append(l.toks, t)
	l.gap = false
}

func (l *lexer) punct(start, end int, c byte) {
	fs := len(l.fold)
	l.fold = append(l.fold, c)
	l.emitTok(token{kind: tPunct}, start, end, fs)
}

// word reads letters, folding them: lower case, accents dropped, and
// apostrophes inside a word dropped ("I'd" -> "id").
func (l *lexer) word(i int) int {
	s := l.s
	start, fs := i, len(l.fold)
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z':
				l.fold = append(l.fold, c)
			case 'A' <= c && c <= 'Z':
				l.fold = append(l.fold, c+'a'-'A')
			case c == '\'' && l.letterAt(i+1):
			default:
				return l.endWord(start, i, fs)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case (r == '’' || r == '‘' || r == 'ʼ') && l.letterAt(i+size):
		case unicode.IsLetter(r):
			l.fold = foldLetter(l.fold, r)
		case unicode.In(r, unicode.Mn, unicode.Me):
			// An accent typed apart from its letter.
		default:
			return l.endWord(start, i, fs)
		}
		i += size
	}
	return l.endWord(start, i, fs)
}

func (l *lexer) endWord(start, end, fs int) int {
	if len(l.fold) == fs {
		l.gap = true // letters that fold to nothing
	} else {
		l.emitTok(token{kind: tWord}, start, end, fs)
	}
	return end
}

func (l *lexer) letterAt(i int) bool {
	if i >= len(l.s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(l.s[i:])
	return unicode.IsLetter(r)
}

// number reads digits (ASCII or full width), a decimal part after a point
// or a comma ("4.5", "4,5"), or a keycap digit ("5️⃣").
func (l *lexer) number(i int) int {
	s := l.s
	start, fs := i, len(l.fold)
	t := token{kind: tNum}
	i = l.digits(i, &t.intDigits, &t.intVal)
	switch {
	case i+1 < len(s) && (s[i] == '.' || s[i] == ',') && digitAt(s, i+1) >= 0:
		l.fold = append(l.fold, '.')
		i = l.digits(i+1, &t.fracDigits, &t.fracVal)
	case t.intDigits == 1:
		j := i
		if strings.HasPrefix(s[j:], "\uFE0F") {
			j += len("\uFE0F")
		}
		if strings.HasPrefix(s[j:], "\u20E3") {
			t.keycap = true
			i = j + len("\u20E3")
		}
	}
	l.emitTok(t, start, i, fs)
	return i
}

func (l *lexer) digits(i int, n, v *int) int {
	for i < len(l.s) {
		d := digitAt(l.s, i)
		if d < 0 {
			break
		}
		l.fold = append(l.fold, "0123456789"[d])
		if *n < 9 {
			*v = *v*10 + d
		}
		*n++
		if l.s[i] < utf8.RuneSelf {
			i++
		} else {
			i += len("０")
		}
	}
	return i
}

// digitAt returns the value of the ASCII or full-width digit at s[i], or -1.
func digitAt(s string, i int) int {
	if c := s[i]; '0' <= c && c <= '9' {
		return int(c - '0')
	} else if c != 0xEF {
		return -1
	}
	if r, _ := utf8.DecodeRuneInString(s[i:]); r >= '０' && r <= '９' {
		return int(r - '０')
	}
	return -1
}

// transparent reports runes that only modify what they follow: variation
// selectors (⭐️ is ⭐ and U+FE0F), joiners, skin tones, combining marks and
// other invisible format characters.
func transparent(r rune) bool {
	return r >= 0xFE00 && r <= 0xFE0F || r >= 0x1F3FB && r <= 0x1F3FF ||
		unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf)
}

// punctOf maps punctuation outside ASCII to the ASCII mark that plays its
// part here, or 0 for a symbol that is not punctuation.
func punctOf(r rune) byte {
	switch r {
	case '–', '—', '‒', '―', '−', '‐', '‑':
		return '-'
	case '’', '‘', 'ʼ', '′':
		return '\''
	case '“', '”', '„', '″', '«', '»':
		return '"'
	case '…', '。', '·', '•':
		return '.'
	case '、', '，':
		return ','
	case '¿':
		return '?'
	case '¡':
		return '!'
	case '€', '£', '¥', '₹':
		return '$'
	}
	if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
		if c := byte(r - 0xFEE0); (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return c
		}
	}
	if unicode.IsPunct(r) {
		return '.'
	}
	return 0
}

// foldLetter appends r in lower case without its accents: é -> e, Å -> a,
// ß -> ss, ﬁ -> fi, full-width Ａ -> a.
func foldLetter(dst []byte, r rune) []byte {
	if r >= latinFrom && r < latinTo {
		if f := latinFold[r-latinFrom]; f != "" {
			return append(dst, f...)
		}
	}
	return decompose(dst, r)
}

// The accented Latin letters, folded once.
const latinFrom, latinTo = 0xC0, 0x250

var latinFold = func() (t [latinTo - latinFrom]string) {
	for r := rune(latinFrom); r < latinTo; r++ {
		if unicode.IsLetter(r) {
			t[r-latinFrom] = string(decompose(nil, r))
		}
	}
	return t
}()

func decompose(dst []byte, r rune) []byte {
	switch r {
	case 'ß', 'ẞ':
		return append(dst, "ss"...)
	case 'æ', 'Æ':
		return append(dst, "ae"...)
	case 'œ', 'Œ':
		return append(dst, "oe"...)
	case 'ø', 'Ø':
		return append(dst, 'o')
	case 'đ', 'Đ', 'ð', 'Ð':
		return append(dst, 'd')
	case 'þ', 'Þ':
		return append(dst, "th"...)
	case 'ł', 'Ł':
		return append(dst, 'l')
	case 'ı':
		return append(dst, 'i')
	}
	var in [utf8.UTFMax]byte
	var buf [64]byte
	out := norm.NFKD.Append(buf[:0], in[:utf8.EncodeRune(in[:], r)]...)
	for len(out) > 0 {
		q, size := utf8.DecodeRune(out)
		out = out[size:]
		if unicode.IsLetter(q) { // the accents, now apart, are marks: dropped
			dst = utf8.AppendRune(dst, unicode.ToLower(q))
		}
	}
	return dst
}
