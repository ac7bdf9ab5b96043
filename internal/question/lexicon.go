package question

import (
	"slices"
	"strings"
	"unicode/utf8"
)

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
