package routing

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/personalize"
)

// How a rule's pattern is compared with a text, both normalised (Normalize).
const (
	MatchExact     = "exact"      // the whole text
	MatchFirstWord = "first_word" // the text's first word
	MatchContains  = "contains"   // the pattern's words, in order, anywhere in the text
	MatchRegex     = "regex"      // an RE2 expression, searched in the normalised text
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
	re     *regexp.Regexp // for MatchRegex
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
	if _, err := personalize.Parse(r.Reply); err != nil {
		return r, fieldErr("reply", "%v", err)
	}
	if r.Match == MatchRegex {
		re, err := regexp.Compile("(?i)" + r.Pattern)
		if err != nil {
			return r, fieldErr("pattern", "not a valid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		r.re = re
		return r, nil
	}
	r.folded = Normalize(r.Pattern)
	if r.folded == "" {
		return r, fieldErr("pattern", "%q has no letters or digits to match", r.Pattern)
	}
	return r, nil
}

// matches reports whether the rule matches a text already normalised.
func (r *Rule) matches(folded string) bool {
	switch r.Match {
	case MatchExact:
		return folded == r.folded
	case MatchFirstWord:
		first, _, _ := strings.Cut(folded, " ")
		return first == r.folded
	case MatchContains:
		// On word boundaries: "stop" is not in "nonstop".
		return strings.Contains(" "+folded+" ", " "+r.folded+" ")
	case MatchRegex:
		return r.re != nil && r.re.MatchString(folded)
	}
	return false
}

// FirstMatch returns the first of rules (compiled, in Position order) that
// matches body.
func FirstMatch(rules []Rule, body string) (Rule, bool) {
	if len(rules) == 0 {
		return Rule{}, false
	}
	folded := Normalize(body)
	for i := range rules {
		if rules[i].matches(folded) {
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
