package routing

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/personalize"
)

// How a rule's pattern is compared with a text, both normalised (Normalize).
const (
	MatchExact     = "exact"      // the whole text
	MatchFirstWord = "first_word" // the text's first word
	MatchContains  = "contains"   // the pattern's words, in order, anywhere in the text
	MatchRegex     = "regex"      // an RE2 expression (case-insensitive), searched in the normalised text and in the text as written
)

// Matches are the ways a rule can match, in the order the API lists them.
var Matches = []string{MatchExact, MatchFirstWord, MatchContains, MatchRegex}

// MaxPattern bounds a rule's pattern. RE2 runs in linear time whatever the
// pattern; the bound keeps its compiled program and its matching small.
const MaxPattern = 200

// MaxReply bounds a rule's reply template.
const MaxReply = 1600

// Rule is one keyword auto-reply of a brand. Rules are tried in Position
// order; the first match wins.
type Rule struct {
	ID          int64
	Position    int
	Match       string
	Pattern     string
	Reply       string // a personalize template: {{.FirstName}}, {{.Attributes.tier}}
	HandToAgent bool   // the conversation also waits for a person

	folded string         // Pattern, normalised
	padded string         // folded between spaces, for MatchContains
	re     *regexp.Regexp // for MatchRegex
	tmpl   *template.Template
}

// FieldError names the field of a rule or a setting that is wrong and why.
type FieldError struct {
	Field, Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Compile checks a rule and prepares it for matching. A bad field is a
// *FieldError naming it: match, pattern or reply.
func Compile(r Rule) (Rule, error) {
	r.Pattern = strings.TrimSpace(r.Pattern)
	switch {
	case !contains(Matches, r.Match):
		return r, fieldErr("match", "%q: must be one of %s", r.Match, strings.Join(Matches, ", "))
	case r.Pattern == "":
		return r, fieldErr("pattern", "required")
	case utf8.RuneCountInString(r.Pattern) > MaxPattern:
		return r, fieldErr("pattern", "%d characters is too long (at most %d)", utf8.RuneCountInString(r.Pattern), MaxPattern)
	case strings.TrimSpace(r.Reply) == "":
		return r, fieldErr("reply", "required")
	case utf8.RuneCountInString(r.Reply) > MaxReply:
		return r, fieldErr("reply", "%d characters is too long (at most %d)", utf8.RuneCountInString(r.Reply), MaxReply)
	}
	tmpl, err := personalize.Parse(r.Reply)
	if err != nil {
		return r, fieldErr("reply", "%v", err)
	}
	r.tmpl = tmpl
	if r.Match == MatchRegex {
		re, err := regexp.Compile("(?i)" + r.Pattern)
		if err != nil {
			return r, fieldErr("pattern", "not a valid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		r.re = re
		return r, nil
	}
	r.folded = Normalize(r.Pattern)
	r.padded = " " + r.folded + " "
	if r.folded == "" {
		return r, fieldErr("pattern", "%q has no letters or digits to match", r.Pattern)
	}
	return r, nil
}

// folded is a text prepared once for every rule: normalised, with its
// first word, and padded with spaces for whole-word search.
type folded struct{ raw, text, first, padded string }

func fold(body string) folded {
	f := folded{raw: body, text: Normalize(body)}
	f.first, _, _ = strings.Cut(f.text, " ")
	f.padded = " " + f.text + " "
	return f
}

// matches reports whether the rule matches a prepared text.
func (r *Rule) matches(f *folded) bool {
	switch r.Match {
	case MatchExact:
		return f.text == r.folded
	case MatchFirstWord:
		return f.first == r.folded
	case MatchContains:
		// On word boundaries: "stop" is not in "nonstop".
		return strings.Contains(f.padded, r.padded)
	case MatchRegex:
		// The folded text, so "horario" finds "¿Horário?"; or the text as
		// written, for patterns about punctuation or accents ("#\d+", "menú").
		return r.re != nil && (r.re.MatchString(f.text) || r.re.MatchString(f.raw))
	}
	return false
}

// FirstMatch returns the first of rules (compiled, in Position order) that
// matches body.
func FirstMatch(rules []Rule, body string) (Rule, bool) {
	if len(rules) == 0 {
		return Rule{}, false
	}
	f := fold(body)
	for i := range rules {
		if rules[i].matches(&f) {
			return rules[i], true
		}
	}
	return Rule{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Render fills the rule's reply for a contact.
func (r *Rule) Render(d personalize.Data) (string, error) {
	if r.tmpl == nil {
		return personalize.Render(r.Reply, d)
	}
	return personalize.Execute(r.tmpl, d)
}
