// Package question reads a customer's reply to a question a brand's text
// asked: a rating, a Net Promoter Score, yes or no, one of a few listed
// choices, or free text. The customer's next text is the answer, typed the
// way people type on a phone ("5!", "4 out of 5", "⭐⭐⭐⭐", "yeah sure",
// "b)", "the second one", "creme brulee"), and Parse turns it into an
// Answer. A reply it cannot read with confidence is not guessed at: it is
// kept as free text and marked for a person.
//
// Everything here is a pure function of the question and the text: no
// database, no clock, no I/O. Compliance keywords (STOP and the like) are
// handled by the caller before Parse is reached.
package question

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind is the sort of question a brand asked.
type Kind string

// The kinds of question Parse understands.
const (
	Rating   Kind = "rating"    // 1..Scale (Scale default 5, allowed 2..10)
	NPS      Kind = "nps"       // 0..10
	YesNo    Kind = "yes_no"    // yes or no
	Choice   Kind = "choice"    // one of Choices
	FreeText Kind = "free_text" // anything
)

// Spec is what was asked.
type Spec struct {
	Kind    Kind
	Scale   int      // rating only; 0 means 5
	Choices []string // choice only, in the order they were listed
}

// Answer is what a reply says.
type Answer struct {
	// Parsed is false when the reply could not be understood: it is kept as
	// free text and marked for a person.
	Parsed bool
	// Value is the rating 1..Scale, the NPS 0..10, 1 for yes and 0 for no,
	// or the 1-based number of the choice. It is 0 when the reply was not
	// parsed and for free text.
	Value int
	// Choice is the listed choice's text exactly as listed, or "yes" or
	// "no" for a yes/no question.
	Choice string
	// Comment is what followed the answer, trimmed ("1 - lost my bag" ->
	// "lost my bag"). When nothing followed but the reply said something
	// before the answer ("Great crew, 9"), that is the comment instead.
	// Courtesies alone ("thanks!") make no comment. For free text and for a
	// reply that was not parsed it is the whole text.
	Comment string
	// Text is the reply as received, trimmed of surrounding white space.
	Text string
}

const (
	defaultScale = 5
	minScale     = 2
	maxScale     = 10
	minChoices   = 2
	maxChoices   = 20
	npsMax       = 10

	// maxReplyBytes bounds the work Parse does. A text message is at most
	// 1600 characters, a few bytes each; anything longer is not an answer
	// to a question and is left for a person.
	maxReplyBytes = 8 << 10
)

// SpecError says what is wrong with a Spec and names the field that holds
// it ("kind", "scale" or "choices"), so that a form can point at it.
type SpecError struct {
	Field string
	Msg   string
}

func (e *SpecError) Error() string { return "question: " + e.Field + ": " + e.Msg }

// Validate reports whether s is a question Parse can read answers to: the
// kind is known, a rating's scale runs from 2 to 10 (0 means 5), and a
// choice question lists 2 to 20 choices that are neither empty nor the
// same as one another once case and accents are ignored. A scale on a
// question that is not a rating, or choices on one that is not a choice
// question, are refused too, since they would be silently ignored.
func (s Spec) Validate() error {
	switch s.Kind {
	case Rating, NPS, YesNo, Choice, FreeText:
	default:
		return &SpecError{"kind", fmt.Sprintf("unknown kind %q (want rating, nps, yes_no, choice or free_text)", string(s.Kind))}
	}
	if s.Kind == Rating {
		if s.Scale != 0 && (s.Scale < minScale || s.Scale > maxScale) {
			return &SpecError{"scale", fmt.Sprintf("a rating scale runs from %d to %d (0 means %d), got %d", minScale, maxScale, defaultScale, s.Scale)}
		}
	} else if s.Scale != 0 {
		return &SpecError{"scale", fmt.Sprintf("only a rating question has a scale, this is a %s question", s.Kind)}
	}
	if s.Kind == Choice {
		_, err := prepareChoices(s.Choices)
		return err
	}
	if len(s.Choices) > 0 {
		return &SpecError{"choices", fmt.Sprintf("only a choice question lists choices, this is a %s question", s.Kind)}
	}
	return nil
}

// Parse reads text as the answer to s. It never fails: a reply it cannot
// read comes back with Parsed false and the whole text as its Comment, and
// so does every reply to a question of unknown kind, a rating with a scale
// outside 2..10 or a choice question whose choices Validate refuses. Fields
// that do not apply to the kind (a scale on an NPS question) are ignored.
//
// Parse is tolerant of case, accents, punctuation, emoji, stray white space
// and invalid UTF-8, and conservative: a reply that gives two different
// answers ("3 or 4", "window or aisle", "yes and no") is not parsed. A
// decimal or a fraction brought onto the question's scale is rounded half
// up (see roundHalfUp): "4.5" is 5, "4.4" is 4, "7/10" out of 5 is 4.
func Parse(s Spec, text string) Answer {
	text = strings.TrimSpace(text)
	a := Answer{Text: text, Comment: text}
	if text == "" {
		return a
	}
	if s.Kind == FreeText {
		a.Parsed = true
		return a
	}
	if len(text) > maxReplyBytes {
		return a
	}
	var (
		value, first, last int
		ok                 bool
		choice             string
		strict             bool
		toks               []token
	)
	switch s.Kind {
	case Rating:
		scale := s.Scale
		if scale == 0 {
			scale = defaultScale
		}
		if scale < minScale || scale > maxScale {
			return a
		}
		toks = tokenize(text)
		value, first, last, ok = score(toks, scale, 1, scale, false)
	case NPS:
		toks = tokenize(text)
		value, first, last, ok = score(toks, npsMax, 0, npsMax, true)
	case YesNo:
		toks = tokenize(text)
		value, first, last, ok = yesNo(toks)
		choice = "no"
		if value == 1 {
			choice = "yes"
		}
	case Choice:
		infos, err := prepareChoices(s.Choices)
		if err != nil {
			return a
		}
		toks = tokenize(text)
		var idx int
		idx, first, last, ok = pickChoice(infos, toks)
		if ok {
			value, choice = idx+1, s.Choices[idx]
		}
		strict = true
	default:
		return a
	}
	if !ok {
		return a
	}
	a.Parsed, a.Value, a.Choice = true, value, choice
	a.Comment = commentFor(text, toks, first, last, strict)
	return a
}

// Negative reports whether an answer calls for a person at once (service
// recovery), and why: "low_rating" for a rating in the bottom 40% of its
// scale (Value <= Scale*2/5, rounded down: 1 or 2 of 5, 1 to 4 of 10; on a
// scale of 2 no rating is that low) or an NPS of 6 or less (a detractor),
// "negative_answer" for a "no" when noIsNegative says the question was one
// a "no" to is bad news ("did we solve it?"). A choice, free text or an
// answer that was not parsed is never negative by itself.
func Negative(s Spec, a Answer, noIsNegative bool) (reason string, ok bool) {
	if !a.Parsed {
		return "", false
	}
	switch s.Kind {
	case Rating:
		scale := s.Scale
		if scale == 0 {
			scale = defaultScale
		}
		if a.Value >= 1 && a.Value <= scale*2/5 {
			return "low_rating", true
		}
	case NPS:
		if a.Value >= 0 && a.Value <= 6 {
			return "low_rating", true
		}
	case YesNo:
		if noIsNegative && a.Value == 0 {
			return "negative_answer", true
		}
	}
	return "", false
}

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

// ---------------------------------------------------------------------------
// Words Parse knows

type lexFlag uint32

const (
	fNumWord    lexFlag = 1 << iota // zero .. ten
	fOrdinal                        // first .. twentieth, last
	fYes                            // yes, yep, sure
	fNo                             // no, nope, nah
	fUnsure                         // maybe, idk: neither yes nor no
	fAuxYes                         // "I do", "it did": yes when it ends the clause
	fAuxNo                          // "I don't", "it didn't", "sadly not"
	fFiller                         // says nothing by itself: "I'd say", "solid", "the"
	fCourtesy                       // please, thanks, sorry
	fUnit                           // a number before it is no rating: "2 hours", "5pm"
	fRatingUnit                     // a number before it is a rating: "5 stars"
	fDeterminer                     // "no one", "the one": not numbers
	fOptionWord                     // "option 3", "number 2"
	fFollower                       // "2 is fine", "2 for me": a choice by number
	fNegator                        // "not the window"
	fChoiceStop                     // too plain to name a choice by: the, with, and
	fCommon                         // an everyday word, never taken for a misspelling
	fNumbered                       // a number after it names a thing: "room 5", "gate 12"
)

type lexeme struct {
	flags lexFlag
	num   int8 // a number word's value; an ordinal's position (ordLast, ...)
}

const (
	ordLast   = -1
	ordLatter = -2 // the second of two
	ordFormer = -3 // the first of two
)

var numberWords = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}

var ordinalWords = [...]string{"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
	"eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"}

// Word lists, folded (lower case, no accents, no apostrophes).
const (
	yesWords = `yes yep yeah yea ya yah yup yas yay yh yeh sure surely ok okay okey okie oki kk
		absolutely definitely certainly please correct right affirmative indeed yessir aye alright
		totally perfect confirm confirmed ofc si oui ja`
	noWords     = `no nope nah naw na nay never negative non nein nej nop`
	unsureWords = `maybe perhaps possibly probably idk idc dunno unsure unclear kinda sorta somewhat partly
		partially mostly depends meh`
	auxYesWords = `do does did will can could would should is am are was were have has`
	auxNoWords  = `dont doesnt didnt wont cant couldnt wouldnt shouldnt isnt arent wasnt werent havent hasnt
		aint not`
	fillerWords = `a an the i id ill im ive me my we us our you u ur your it its thats that this is am are was
		were be been would will could should can say said give gave giving rate rated rating score scored
		nps solid strong easy about around approx approximately like maybe probably prob probs honestly
		overall just only so um umm uh uhh hmm hm well oh ah ok okay hi hey hello hiya dear think thought
		guess reckon definitely def defo totally absolutely sure yes yeah yep really very pretty quite at
		least out of for to from on in with and or go take have get got want wanted prefer pick choose
		select picking going gonna gotta wanna lets let do rather sadly unfortunately afraid actually also
		already one option choice number guys folks yall no`
	courtesyWords = `please pls plz thanks thank thankyou thanku you u thx tx ty tysm tyvm cheers much so very
		lot lots appreciate appreciated sorry again kindly merci gracias danke bitte obrigado grazie`
	unitWords = `am pm min mins minute minutes hr hrs hour hours sec secs seconds day days wk wks week weeks
		month months year years yr yrs yo times x people ppl person persons kids kid children adults guests
		bags bag seats tickets flights nights dollars dollar bucks usd eur euro euros gbp pounds quid k lbs
		lb kg km miles mile`
	ratingUnitWords = `star stars points point pts pt`
	numberedWords   = `room gate seat row flight table order ticket terminal platform floor level suite unit apt
		bus train line bag case ref code page step version booking reservation confirmation item top at`
	determinerWords = `the no every any some this that which each another other only`
	optionWords     = `option options opt choice choices number num nr no letter answer pick`
	followerWords   = `is it for me one option choice works fine good ok okay sounds would be great perfect
		thats that yes yeah sure or and`
	negatorWords = `not no never dont without except besides but nothing neither nor hate avoid`
	stopWords    = `the a an of with and or in on at for to by from my your our de la le el et y`
	// Everyday words a misspelling check must leave alone, chiefly those one
	// letter away from a number or from yes or no: "for" is not "four",
	// "fine" is not "five", "nice" is not "nine", "there" is not "three",
	// "yet" is not "yes", "not" is not "non".
	commonWords = `about above after again against all almost also an and any anyone anything are around as
		ask at away back bad be because been before being best better big bit both bright but by came
		can car card care case cause check come cool cup cure cut day dead dear did dine dive do does
		doing done door dope down each easy eat else end even ever every eye eyes face fair far fast fave
		fee feel fever few fife fight file fill find fine fire fit fix flight flour fly food for fore
		form fort found foul four free from full fun fur gave get give go god going gone good got great
		guy had half hand hard has hate have he hear heard height help her here hero hers hes hey high him
		his hit hive hold home hope hot hour how ice if in into is it its job just keep kind knew know
		last late later least lease less let lever lie life light like line little live long look lose
		lost lot love made make man many may me mean meet men might mine miss mom more most move much must
		my name nan near need neon never new next nice night nina nine node none noon noone nor nose not
		note nothing now nun of off oh old on once one only open or other our out over own pay pea pep
		per pick pine place plan play plead pleas pope pour pure put rain rate read real red rein rep rest
		ride right rights rope run sad said same saw say sea see seem seen sent set sever she should show
		side sight sign since site size so sold some son soon sore sorry sort steven still stop such sue
		sun sure surf take talk tea tell than that the thee their them then there these they thing think
		this those though threw throe through tight till time tire to told too took top tour tree tried
		true try turn two up upon us use used very vein view vine wait walk want was way we week weight
		well went were what when where which while who why wide wife will wine wish with won word work
		would wow year years yen yes yet yew you young your yours yrs yum yap cool lol omg btw gonna wanna
		gotta youre whats cant wont didnt doesnt isnt wasnt awful terrible excellent amazing loved hated
		eighty eighth zeros fives fours nines sevens threes always sometimes anyways kudos`
)

var lexicon = buildLexicon()

func buildLexicon() map[string]lexeme {
	m := make(map[string]lexeme, 800)
	add := func(f lexFlag, words string) {
		for _, w := range strings.Fields(words) {
			e := m[w]
			e.flags |= f
			m[w] = e
		}
	}
	for v, w := range numberWords {
		e := m[w]
		e.flags |= fNumWord
		e.num = int8(v)
		m[w] = e
	}
	for k, w := range ordinalWords {
		e := m[w]
		e.flags |= fOrdinal
		e.num = int8(k + 1)
		m[w] = e
	}
	for w, pos := range map[string]int8{"last": ordLast, "final": ordLast, "latter": ordLatter, "former": ordFormer} {
		e := m[w]
		e.flags |= fOrdinal
		e.num = pos
		m[w] = e
	}
	add(fYes, yesWords)
	add(fNo, noWords)
	add(fUnsure, unsureWords)
	add(fAuxYes, auxYesWords)
	add(fAuxNo, auxNoWords)
	add(fFiller, fillerWords)
	add(fCourtesy, courtesyWords)
	add(fUnit, unitWords)
	add(fRatingUnit, ratingUnitWords)
	add(fNumbered, numberedWords)
	add(fDeterminer, determinerWords)
	add(fOptionWord, optionWords)
	add(fFollower, followerWords)
	add(fNegator, negatorWords)
	add(fChoiceStop, stopWords)
	add(fCommon, commonWords)
	return m
}

// polarity is what a yes/no expression says.
type polarity int8

const (
	polNone   polarity = iota
	polYes             // yes
	polNo              // no
	polUnsure          // maybe, not sure, yes and no
	polPolite          // "no problem", "no worries": not an answer by itself
)

// A phrase is a yes/no expression of more than one word, or one whose
// meaning is not that of its first word ("no problem", "not sure").
type phrase struct {
	words []string
	pol   polarity
}

var phrases = buildPhrases()

func buildPhrases() map[string][]phrase {
	m := map[string][]phrase{}
	add := func(pol polarity, list string) {
		for _, p := range strings.Split(list, ",") {
			w := strings.Fields(p)
			if len(w) > 0 {
				m[w[0]] = append(m[w[0]], phrase{w, pol})
			}
		}
	}
	add(polYes, `of course, yes please, for sure, sure thing, sounds good, sounds great, sounds perfect,
		that works, works for me, will do, all right, thats right, that is right, thats correct,
		that is correct, yes sir, yes maam, hell yes, hell yeah, think so, guess so, hope so, believe so,
		you bet`)
	add(polNo, `no thanks, no thank you, no thx, not really, not at all, no way, absolutely not,
		definitely not, of course not, certainly not, hell no, not yet, not quite, not exactly, no sir,
		not now, not today, dont think so, do not think so, think not, hope not, guess not, do not, did not,
		does not, will not, nope never, not interested`)
	add(polUnsure, `yes and no, yes or no, no or yes, not sure, not certain, not really sure, not too sure,
		not so sure, dont know, do not know, no idea, kind of, sort of, it depends, not sure yet`)
	add(polPolite, `no problem, no problems, no worries, no prob, no probs, no bother, no rush, np`)
	add(polNone, `no one, no body`) // "no one called me back" is for a person to read
	for _, list := range m {
		slices.SortStableFunc(list, func(a, b phrase) int { return len(b.words) - len(a.words) })
	}
	return m
}

// Misspellings are matched against these words only (one edit away, a
// swap of two letters counting as one): long enough that one edit does not
// reach an everyday word. Two-letter words ("on", "to") never count.
var numberTypoTargets = [...]string{"zero", "three", "four", "five", "seven", "eight", "nine"}

var yesNoTypoTargets = []struct {
	w   string
	pol polarity
}{
	{"yes", polYes}, {"yep", polYes}, {"yeah", polYes}, {"yea", polYes}, {"yup", polYes}, {"sure", polYes},
	{"okay", polYes}, {"absolutely", polYes}, {"definitely", polYes}, {"certainly", polYes},
	{"please", polYes}, {"correct", polYes}, {"right", polYes}, {"affirmative", polYes}, {"alright", polYes},
	{"nope", polNo}, {"never", polNo}, {"negative", polNo}, {"nein", polNo},
	{"maybe", polUnsure}, {"perhaps", polUnsure}, {"possibly", polUnsure}, {"probably", polUnsure},
	{"unsure", polUnsure}, {"dunno", polUnsure},
}

// squeezeTargets are the yes/no words a reply may stretch ("yesss",
// "noooo", "okkk", "sureee").
var squeezeTargets = buildSqueezeTargets()

func buildSqueezeTargets() []struct {
	w   string
	pol polarity
} {
	var out []struct {
		w   string
		pol polarity
	}
	for _, list := range []struct {
		words string
		pol   polarity
	}{{yesWords, polYes}, {noWords, polNo}, {unsureWords, polUnsure}} {
		for _, w := range strings.Fields(list.words) {
			if len(w) >= 2 {
				out = append(out, struct {
					w   string
					pol polarity
				}{w, list.pol})
			}
		}
	}
	return out
}

// sameSqueezed reports whether a and b are the same once runs of one
// letter count as one: "yesss" and "yes", "threee" and "three".
func sameSqueezed(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		c := a[i]
		if b[j] != c {
			return false
		}
		for i < len(a) && a[i] == c {
			i++
		}
		for j < len(b) && b[j] == c {
			j++
		}
	}
	return i == len(a) && j == len(b)
}

// withinEdits reports whether a and b are at most k edits apart, an edit
// being a letter inserted, deleted, changed, or two neighbours swapped
// ("fvie" and "five" are one edit apart). Bytes are compared, so callers
// pass ASCII.
func withinEdits(a, b string, k int) bool {
	const maxLen = 32
	la, lb := len(a), len(b)
	if la-lb > k || lb-la > k || la > maxLen || lb > maxLen {
		return false
	}
	// Three rows of the edit table: two rows back (for swaps), the last
	// row, and the row being filled.
	var buf [3 * (maxLen + 1)]int
	n := lb + 1
	back, prev, cur := buf[:n], buf[n:2*n], buf[2*n:3*n]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		best := i
		for j := 1; j < n; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, back[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > k {
			return false // no later row can do better
		}
		back, prev, cur = prev, cur, back
	}
	return prev[lb] <= k
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// misspelt reports whether a word may be taken for a misspelling: it is
// not a word Parse knows, and it is plain ASCII of at least 3 letters.
func misspelt(t *token) bool {
	return t.kind == tWord && t.lex.flags == 0 && len(t.text) >= 3 && isASCII(t.text)
}

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
