// Package carrier defines how Parley hands a text to an SMS provider. The
// outbound engine only sees this interface; twilio/ implements it with
// twilio-go and sim/ with an in-process simulator for `parley dev`.
package carrier

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Outgoing is one text to send.
type Outgoing struct {
	MessageID      int64 // Parley's id, also in StatusCallback
	From, To       string
	Body           string
	MediaURLs      []string
	StatusCallback string // where the provider reports delivery statuses
	ValidityPeriod time.Duration
}

// Sent is what the provider answered to an accepted text.
type Sent struct {
	SID    string
	Status string // the provider's status at creation (queued, accepted, sent…)
}

// Found is a text the provider has on record, used to resolve an ambiguous send.
type Found struct {
	SID         string
	Status      string
	From, To    string
	Body        string
	DateCreated time.Time
	ErrorCode   int
}

// Carrier sends texts and can look up what it sent.
type Carrier interface {
	// Send hands one text to the provider. Errors are *Error with a Kind.
	Send(ctx context.Context, m Outgoing) (Sent, error)
	// Lookup lists texts sent from `from` to `to` created at or after since,
	// newest first, so an ambiguous send can be matched. Only a nil error
	// makes "not in the list" mean "the provider has no such text": an error
	// wrapping ErrIncomplete comes with the texts it could read.
	Lookup(ctx context.Context, from, to string, since time.Time) ([]Found, error)
}

// ErrIncomplete is a Lookup that could not read every text of the window
// (too many of them): a text missing from its answer may still exist.
var ErrIncomplete = errors.New("carrier: lookup incomplete")

// Kind classifies a send failure; the outbound engine acts on the kind, never
// on provider-specific codes.
type Kind int

// The kinds of failure.
const (
	// Retryable: the request provably did not take effect (queue overflow, a
	// connection refused before the request was written). Try again with backoff.
	Retryable Kind = iota + 1
	// RateLimited: the provider refused for load (429/20429). Safe to retry after a pause.
	RateLimited
	// Permanent: the text will never go (bad parameters, blocked, unregistered sender).
	Permanent
	// OptedOut: the recipient replied STOP to this sender at the provider (21610).
	OptedOut
	// BadNumber: the recipient cannot receive texts (21211 invalid, 21614 not mobile).
	BadNumber
	// Ambiguous: the request may have reached the provider (a 5xx, a timeout
	// after sending, a connection dropped mid-response). The text may or may
	// not have gone: look it up before any resend.
	Ambiguous
)

func (k Kind) String() string {
	switch k {
	case Retryable:
		return "retryable"
	case RateLimited:
		return "rate_limited"
	case Permanent:
		return "permanent"
	case OptedOut:
		return "opted_out"
	case BadNumber:
		return "bad_number"
	case Ambiguous:
		return "ambiguous"
	}
	return "unknown"
}

// Error is a classified send failure.
type Error struct {
	Kind       Kind
	Code       int           // the provider's error code (e.g. 21610), 0 when none
	HTTPStatus int           // 0 when no response
	Message    string        // the provider's message
	RetryAfter time.Duration // a hint for RateLimited, 0 when unknown
	Err        error         // the underlying error, if any
}

func (e *Error) Error() string {
	s := fmt.Sprintf("carrier: %s", e.Kind)
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err, or 0 when err is not a carrier *Error.
func KindOf(err error) Kind {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return 0
}
