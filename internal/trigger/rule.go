// Package trigger is the event-driven side of Parley: brands post what
// happened to a customer, rules decide which one-to-one text that calls
// for and when, and a runner in every worker sends each once when due.
// Decisions (conditions, due times, whether a run may send) are pure
// functions over what the store read.
package trigger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/question"
)

// Spec is a rule as the API and console give it, and as it is stored.
type Spec struct {
	Brand     string `json:"brand"`
	Name      string `json:"name,omitempty"`
	EventType string `json:"event_type,omitempty"`
	// Date makes a date rule instead: N days before or after a contact's
	// date attribute, at a local time.
	Date       *DateRule     `json:"date,omitempty"`
	Conditions string        `json:"conditions,omitempty"`
	Delay      Delay         `json:"delay"`
	Template   string        `json:"template"`
	Purpose    string        `json:"purpose"`
	Cooldown   string        `json:"cooldown,omitempty"`
	Expire     string        `json:"expire_after,omitempty"`
	Question   *QuestionSpec `json:"question,omitempty"`
	// AskWhileOpen lets the rule ask its question of someone who has not
	// yet answered another rule's (by default they are skipped).
	AskWhileOpen bool  `json:"ask_while_open,omitempty"`
	Enabled      *bool `json:"enabled,omitempty"`
}

// DateRule is "offset_days after the contact's attribute, at at_local",
// every year (a birthday, a membership anniversary) or, with Once, on that
// date only (points expiry). The attribute holds a date as YYYY-MM-DD (a
// longer timestamp is read by its date).
type DateRule struct {
	Attribute  string `json:"attribute"`
	OffsetDays int    `json:"offset_days"`
	AtLocal    string `json:"at_local"`
	Once       bool   `json:"once,omitempty"`
}

// QuestionSpec is the question a rule's text asks.
type QuestionSpec = question.Input

// Delay is when after the event the text goes: a duration ("2h", "0s" =
// now) or a number of days at a local time ({"days": 1, "at_local":
// "10:00"}).
type Delay struct {
	After   time.Duration
	Days    int
	AtLocal string // "HH:MM"; set for the local-time form
	raw     string
}

// UnmarshalJSON reads either form.
func (d *Delay) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*d = Delay{}
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a duration such as \"2h\" or \"0s\"", s)
		}
		*d = Delay{After: v, raw: s}
		return nil
	}
	var o struct {
		Days    *int   `json:"days"`
		AtLocal string `json:"at_local"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf("give a duration (\"2h\") or {\"days\": 1, \"at_local\": \"10:00\"}: %v", err)
	}
	if o.Days == nil || o.AtLocal == "" {
		return fmt.Errorf("the local-time form needs both days and at_local")
	}
	*d = Delay{Days: *o.Days, AtLocal: o.AtLocal}
	return nil
}

// MarshalJSON writes the form it was given.
func (d Delay) MarshalJSON() ([]byte, error) {
	if d.AtLocal != "" {
		return json.Marshal(map[string]any{"days": d.Days, "at_local": d.AtLocal})
	}
	if d.raw != "" {
		return json.Marshal(d.raw)
	}
	return json.Marshal(d.After.String())
}

// FieldError is a rule that cannot be saved: Field names what is wrong.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Rule is a compiled rule, ready to judge events.
type Rule struct {
	ID, BrandID  int64
	Spec         Spec
	EventType    string
	Date         *DateRule
	conditions   *vm.Program
	tmpl         *template.Template
	Purpose      string
	Cooldown     time.Duration
	Expire       time.Duration
	Question     *question.Spec
	QuestionID   int64
	Window       time.Duration
	FollowUps    map[string]string
	NoIsNegative bool
	Enabled      bool
}

// DefaultExpire is how long after its due time a text may still go.
const DefaultExpire = 24 * time.Hour

// DefaultWindow is how long a question waits for its answer.
const DefaultWindow = question.DefaultWindow

var (
	eventTypeRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	attrNameRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// conditionEnv is what a condition sees: the event's data, the contact's
// attributes and fields.
func conditionEnv(data, attrs map[string]any, name, loyaltyID, phone, timezone, eventType string) map[string]any {
	if data == nil {
		data = map[string]any{}
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	return map[string]any{"data": data, "attributes": attrs, "name": name, "loyalty_id": loyaltyID, "phone": phone,
		"timezone": timezone, "event_type": eventType}
}

// MaxConditionLength bounds a condition's source.
const MaxConditionLength = 2000

// CompileCondition compiles a condition (empty: always true), type-checked
// against the names a condition may use.
func CompileCondition(src string) (*vm.Program, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, nil
	}
	if len(src) > MaxConditionLength {
		return nil, fmt.Errorf("at most %d characters", MaxConditionLength)
	}
	p, err := expr.Compile(src, expr.Env(conditionEnv(nil, nil, "", "", "", "", "")), expr.AsBool())
	if err != nil {
		msg := err.Error()
		if i := strings.IndexByte(msg, '\n'); i > 0 {
			msg = msg[:i]
		}
		return nil, fmt.Errorf("does not compile: %s", msg)
	}
	return p, nil
}

// Compile checks a spec and compiles it. Every error is a *FieldError.
func Compile(s Spec) (Rule, error) {
	r := Rule{Spec: s, Enabled: s.Enabled == nil || *s.Enabled}
	s.EventType = strings.TrimSpace(s.EventType)
	switch {
	case s.EventType == "" && s.Date == nil:
		return r, bad("event_type", "give the event type the rule reacts to (or a date rule)")
	case s.EventType != "" && s.Date != nil:
		return r, bad("date", "a rule reacts to an event type or to a date, not both")
	case s.EventType != "" && !eventTypeRE.MatchString(s.EventType):
		return r, bad("event_type", "%q: 1–64 letters, digits, _ . : -", s.EventType)
	}
	r.EventType = s.EventType
	if s.Date != nil {
		d := *s.Date
		d.Attribute = strings.TrimSpace(d.Attribute)
		if !attrNameRE.MatchString(d.Attribute) {
			return r, bad("date.attribute", "name the contact attribute holding the date (such as birthday)")
		}
		if d.OffsetDays < -366 || d.OffsetDays > 366 {
			return r, bad("date.offset_days", "between -366 and 366 days")
		}
		if _, _, ok := parseClock(d.AtLocal); !ok {
			return r, bad("date.at_local", "%q is not a local time such as \"10:00\"", d.AtLocal)
		}
		r.Date = &d
	}
	if s.Delay.AtLocal != "" {
		if _, _, ok := parseClock(s.Delay.AtLocal); !ok {
			return r, bad("delay.at_local", "%q is not a local time such as \"10:00\"", s.Delay.AtLocal)
		}
		if s.Delay.Days < 0 || s.Delay.Days > 365 {
			return r, bad("delay.days", "between 0 and 365")
		}
	} else if s.Delay.After < 0 || s.Delay.After > 366*24*time.Hour {
		return r, bad("delay", "between 0s and 8784h")
	}
	var err error
	if r.conditions, err = CompileCondition(s.Conditions); err != nil {
		return r, bad("conditions", "%v", err)
	}
	if strings.TrimSpace(s.Template) == "" {
		return r, bad("template", "the text to send is empty")
	}
	if r.tmpl, err = personalize.Parse(s.Template); err != nil {
		return r, bad("template", "%v", err)
	}
	switch s.Purpose {
	case consent.Conversational, consent.Marketing:
		r.Purpose = s.Purpose
	case "":
		return r, bad("purpose", "give conversational or marketing")
	default:
		return r, bad("purpose", "%q: conversational or marketing", s.Purpose)
	}
	if r.Cooldown, err = duration(s.Cooldown, 0); err != nil {
		return r, bad("cooldown", "%v", err)
	}
	if r.Expire, err = duration(s.Expire, DefaultExpire); err != nil || r.Expire <= 0 {
		return r, bad("expire_after", "a positive duration such as \"24h\"")
	}
	if q := s.Question; q != nil {
		stored, err := q.Check(0)
		if err != nil {
			field, msg := question.FieldOf(err)
			return r, bad("question."+field, "%s", msg)
		}
		r.Question = &question.Spec{Kind: question.Kind(stored.Kind), Scale: stored.Scale, Choices: stored.Choices}
		r.Window, r.FollowUps, r.NoIsNegative = stored.Window, stored.FollowUps, stored.NoIsNegative
	}
	return r, nil
}

func duration(s string, def time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as \"720h\"", s)
	}
	return d, nil
}

func parseClock(s string) (h, m int, ok bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, 0, false
	}
	return t.Hour(), t.Minute(), true
}

// Matches says whether the rule's conditions hold for an event; a
// condition that fails at run time (a missing field compared as a number)
// does not hold, and says why.
func (r *Rule) Matches(env map[string]any) (bool, error) {
	return r.MatchesOn(nil, env)
}

// MatchesOn is Matches on a machine the caller keeps (one per goroutine):
// judging many rules in a row then allocates far less.
func (r *Rule) MatchesOn(m *vm.VM, env map[string]any) (bool, error) {
	if r.conditions == nil {
		return true, nil
	}
	var out any
	var err error
	if m != nil {
		out, err = m.Run(r.conditions, env)
	} else {
		out, err = expr.Run(r.conditions, env)
	}
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// Render fills the rule's text for a person and event.
func (r *Rule) Render(d personalize.Data) (string, error) {
	return personalize.Execute(r.tmpl, d)
}

// Missing lists the fields the text prints that d lacks.
func (r *Rule) Missing(d personalize.Data) []string {
	return personalize.Missing(r.tmpl, d)
}
