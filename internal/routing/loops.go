package routing

import (
	"time"
)

// Automated is an automated text Parley sent a phone (an auto-reply or an
// after-hours acknowledgement), with the first text the phone sent after it.
type Automated struct {
	At         time.Time // queued
	Body       string
	AnsweredAt time.Time // zero: not answered (yet)
}

// Loop protection limits.
const (
	// DefaultAutoReplyLimit is how many auto-replies a phone gets per hour
	// unless the brand sets another number.
	DefaultAutoReplyLimit = 3
	// RepeatWindow: the same automated text is never sent twice in a row
	// within it.
	RepeatWindow = 10 * time.Minute
	// MachineGap and MachineRuns: a sender that answers automation within
	// MachineGap MachineRuns times in a row is a machine.
	MachineGap  = 2 * time.Second
	MachineRuns = 3
)

// IsPersonPhone reports whether from is a phone a person can hold (E.164),
// not a short code or an alphanumeric sender, which are machines: they get
// no automated text, ever.
func IsPersonPhone(from string) bool {
	if len(from) < 9 || len(from) > 16 || from[0] != '+' {
		return false
	}
	for _, r := range from[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// LooksLikeMachine reports whether the text arriving at now, with the
// automated texts before it (newest first), completes MachineRuns answers in
// a row each within MachineGap of the automated text it answers.
func LooksLikeMachine(history []Automated, now time.Time) bool {
	if len(history) < MachineRuns {
		return false
	}
	if d := now.Sub(history[0].At); d < 0 || d > MachineGap {
		return false
	}
	for _, a := range history[1:MachineRuns] {
		if a.AnsweredAt.IsZero() || a.AnsweredAt.Sub(a.At) > MachineGap {
			return false
		}
	}
	return true
}

// withholdAutomated says why an automated text must not go to from now ("":
// it may): the hourly limit per phone (limit, auto-replies only), or the
// same text as the last automated one within RepeatWindow.
func withholdAutomated(history []Automated, body string, now time.Time, limit int, counts bool) string {
	if len(history) > 0 && history[0].Body == body && now.Sub(history[0].At) < RepeatWindow {
		return "the same automated text went to this phone less than 10 minutes ago"
	}
	if !counts {
		return ""
	}
	n := 0
	for _, a := range history {
		if now.Sub(a.At) < time.Hour {
			n++
		}
	}
	if n >= limit {
		return "this phone had its automated texts for the hour"
	}
	return ""
}
