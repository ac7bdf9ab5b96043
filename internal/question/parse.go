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
	"strings"
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
