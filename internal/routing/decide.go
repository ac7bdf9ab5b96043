package routing

import (
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/personalize"
)

// Kinds of automated text, as messages.origin records them.
const (
	KindAutoReply  = "auto_reply"
	KindAfterHours = "after_hours"
)

// DefaultAfterHoursReply is the acknowledgement a brand gets unless it
// writes its own; {{.Opens}} is "from 9:00 tomorrow" in the customer's time,
// or "as soon as someone is available" when the schedule never opens.
const DefaultAfterHoursReply = "We're closed now; an agent will answer {{.Opens}}."

// Settings are the parts of a brand's settings routing reads.
type Settings struct {
	Rules           []Rule // compiled, in position order
	Hours           Hours
	AfterHoursReply string // "" for DefaultAfterHoursReply
	AutoReplyLimit  int    // per phone per hour; 0 for DefaultAutoReplyLimit
	Targets         Targets
	OptInKeyword    string // normalised; "" for no double opt-in by text
}

// Input is an inbound text with what routing needs to know around it.
type Input struct {
	Body, From string
	At         time.Time
	// Compliance: the text is a compliance keyword or a plain-language
	// opt-out; it wins over every rule and nothing automated answers it.
	Compliance bool
	Contact    personalize.Data
	// Reopens: the text opens a new conversation or reopens a closed or
	// snoozed one (an after-hours acknowledgement is due only then).
	Reopens   bool
	LastAckAt time.Time   // the conversation's latest after-hours acknowledgement
	History   []Automated // automated texts to this phone, newest first, at least the last hour's
	Local     *time.Location
}

// Decision is what routing does with a text. A zero Decision: nothing
// automated, the text waits for a person as always.
type Decision struct {
	Reply  string // the automated text to queue, "" for none
	Kind   string // KindAutoReply or KindAfterHours
	RuleID int64
	// Close: the answer settles it; the conversation closes itself after the
	// reply unless the customer writes again.
	Close bool
	// Attention: why a person should look (a sender that behaves like a
	// machine), set on the conversation silently.
	Attention string
	// Withheld: why an automated text that was due did not go out.
	Withheld string
}

// NeedsContext is the inbound path's cheap first look: false when no rule
// matches body and the brand is open, so that Decide cannot do anything and
// nothing more needs to be read.
func NeedsContext(s Settings, body string, at time.Time) bool {
	if _, ok := FirstMatch(s.Rules, body); ok {
		return true
	}
	return !s.Hours.OpenAt(at)
}

// Decide is routing's decision for one inbound text.
func Decide(in Input, s Settings) Decision {
	if in.Compliance {
		return Decision{}
	}
	limit := s.AutoReplyLimit
	if limit <= 0 {
		limit = DefaultAutoReplyLimit
	}
	var d Decision
	data := in.Contact
	if rule, ok := FirstMatch(s.Rules, in.Body); ok {
		// The answer settles a conversation this text opened; in one already
		// going on (an agent may be in the middle of it) it only answers.
		d = Decision{Kind: KindAutoReply, RuleID: rule.ID, Close: !rule.HandToAgent && in.Reopens}
		reply, err := rule.Render(data)
		if err != nil {
			return Decision{Withheld: fmt.Sprintf("auto-reply %d could not be filled in: %v", rule.ID, err)}
		}
		d.Reply = reply
	} else if !s.Hours.OpenAt(in.At) && in.Reopens &&
		(in.LastAckAt.IsZero() || in.LastAckAt.Before(s.Hours.ClosedSince(in.At))) {
		// One acknowledgement per closed period: none yet since it began.
		data.Opens = "as soon as someone is available"
		if next, ok := s.Hours.NextOpening(in.At); ok {
			data.Opens = DescribeOpening(next, in.At, in.Local)
		}
		tmpl := s.AfterHoursReply
		if tmpl == "" {
			tmpl = DefaultAfterHoursReply
		}
		reply, err := personalize.Render(tmpl, data)
		if err != nil {
			return Decision{Withheld: fmt.Sprintf("the after-hours acknowledgement could not be filled in: %v", err)}
		}
		d = Decision{Kind: KindAfterHours, Reply: reply}
	} else {
		return Decision{}
	}
	if !IsPersonPhone(in.From) {
		return Decision{Withheld: "the sender is a short code or an alphanumeric sender: no automated text"}
	}
	if LooksLikeMachine(in.History, in.At) {
		return Decision{Attention: "the sender answers automated texts within 2 s: it looks like a machine, so automation stopped; a person should reply",
			Withheld: "the sender looks like a machine"}
	}
	if why := withholdAutomated(in.History, d.Reply, in.At, limit, d.Kind == KindAutoReply); why != "" {
		// No answer went out: the conversation waits for a person instead.
		return Decision{Withheld: why}
	}
	return d
}
