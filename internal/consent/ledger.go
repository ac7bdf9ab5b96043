package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/store"
)

// Sources a ledger entry can come from. An entry without one is from the API.
var Sources = []string{"keyword", "api", "import", "agent", "carrier", "web_form"}

// maxEvidence bounds the evidence text of one entry.
const maxEvidence = 2000

// ErrInvalid is wrapped by every FieldError, so callers can tell bad input
// from a failure.
var ErrInvalid = errors.New("invalid consent entry")

// FieldError names the field of a consent entry that is wrong and why.
type FieldError struct {
	Field string // "purpose", "status", "source", "evidence", "phone"
	Msg   string
}

func (e *FieldError) Error() string { return "consent: " + e.Field + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Change is one consent entry to append for a phone of a brand.
type Change struct {
	Phone     string // E.164, already normalised
	Purpose   string // Marketing or Conversational
	Status    string // OptedIn or OptedOut
	Source    string // one of Sources; "" means "api"
	Evidence  string // what proves it: the form, the import file, the agent's note
	MessageID int64  // the inbound text that carried it, 0 for none
}

// Check validates c and fills its defaults (source "api", trimmed evidence).
// It returns a *FieldError naming the bad field. The phone is not checked here:
// entries built by the contact rules carry no phone yet.
func Check(c *Change) error {
	c.Purpose = strings.TrimSpace(c.Purpose)
	c.Status = strings.TrimSpace(c.Status)
	c.Source = strings.TrimSpace(c.Source)
	c.Evidence = strings.TrimSpace(c.Evidence)
	switch {
	case c.Purpose == "":
		return &FieldError{"purpose", "is required: marketing or conversational"}
	case c.Purpose != Marketing && c.Purpose != Conversational:
		return &FieldError{"purpose", fmt.Sprintf("%q is not a purpose: marketing or conversational", c.Purpose)}
	case c.Status == "":
		return &FieldError{"status", "is required: opted_in or opted_out"}
	case c.Status != OptedIn && c.Status != OptedOut:
		return &FieldError{"status", fmt.Sprintf("%q is not a status: opted_in or opted_out", c.Status)}
	}
	if c.Source == "" {
		c.Source = "api"
	}
	if !slices.Contains(Sources, c.Source) {
		return &FieldError{"source", fmt.Sprintf("%q is not a source: one of %s", c.Source, strings.Join(Sources, ", "))}
	}
	if len(c.Evidence) > maxEvidence {
		return &FieldError{"evidence", fmt.Sprintf("is %d bytes; at most %d", len(c.Evidence), maxEvidence)}
	}
	if c.Status == OptedIn && c.Evidence == "" {
		return &FieldError{"evidence", "is required for an opt-in: what proves the consent (the form, the import file, the agent's note)"}
	}
	return nil
}

// ErrOptedOutByText is wrapped by every *OverrideError, so that callers can
// answer a conflict rather than bad input.
var ErrOptedOutByText = errors.New("the customer opted out by text")

// OverrideError refuses an opt-in that would undo an opt-out the customer
// made themselves, by texting STOP (source keyword) or at the carrier
// (carrier). Only the customer texting START, or a new consent a person
// collected (web_form, agent) with its evidence, may do that.
type OverrideError struct {
	Phone     string
	Purpose   string
	Source    string // of the refused opt-in
	OptOutVia string // keyword or carrier
}

func (e *OverrideError) Error() string {
	return fmt.Sprintf("%s opted out of %s texts by text (%s); an opt-in from source %s cannot override that: "+
		"the customer must text START, or give new consent recorded with source web_form or agent and its evidence",
		e.Phone, e.Purpose, e.OptOutVia, e.Source)
}

// Unwrap makes errors.Is(err, ErrOptedOutByText) true.
func (e *OverrideError) Unwrap() error { return ErrOptedOutByText }

// mayOverrideTextOptOut says whether an opt-in from source may undo the
// customer's own opt-out: a consent a person collected (a web form, an agent),
// or the customer's own keyword (an inbound text, which carries its message).
func mayOverrideTextOptOut(c Change) bool {
	return c.Source == "web_form" || c.Source == "agent" || (c.Source == "keyword" && c.MessageID != 0)
}

// CheckOverride refuses (with an *OverrideError) an opt-in c that would undo
// an opt-out the customer made by text: a keyword or carrier opt-out of c's
// purpose with no opt-in after it in history, the phone's ledger for the brand
// oldest first (an API opt-out after a STOP does not lift it). c must have
// passed Check.
func CheckOverride(c Change, history []store.ConsentEvent) error {
	if c.Status != OptedIn || mayOverrideTextOptOut(c) {
		return nil
	}
	via := ""
	for _, e := range history {
		switch {
		case e.Purpose != c.Purpose:
		case e.Status == OptedIn:
			via = ""
		case e.Status == OptedOut && (e.Source == "keyword" || e.Source == "carrier"):
			via = e.Source
		}
	}
	if via == "" {
		return nil
	}
	return &OverrideError{Phone: c.Phone, Purpose: c.Purpose, Source: c.Source, OptOutVia: via}
}

// Ledger reads and appends the consent ledger. It is what every sender asks
// before a text goes out, and the only place that turns the ledger into a
// yes or no.
type Ledger struct {
	st *store.Store
}

// NewLedger returns the ledger over st.
func NewLedger(st *store.Store) *Ledger { return &Ledger{st: st} }

// State is where one phone stands with one brand, and how it got there.
type State struct {
	Marketing      string // OptedIn, OptedOut or Unknown
	Conversational string
	Ledger         []store.ConsentEvent // oldest first
}

// State derives the current state of each purpose from the newest ledger row
// of that purpose; a purpose with no row is Unknown.
func (l *Ledger) State(ctx context.Context, brandID int64, phone string) (State, error) {
	evs, err := l.st.ConsentEvents(ctx, brandID, phone)
	if err != nil {
		return State{}, fmt.Errorf("consent: state: %w", err)
	}
	st := State{Marketing: Unknown, Conversational: Unknown, Ledger: evs}
	for _, e := range evs { // oldest first: the last one of each purpose wins
		switch e.Purpose {
		case Marketing:
			st.Marketing = e.Status
		case Conversational:
			st.Conversational = e.Status
		}
	}
	return st, nil
}

// CanSend says whether a text of purpose may go to phone for the brand now,
// and why. Marketing needs an explicit opt-in as the newest marketing entry,
// and is also refused when the phone's newest conversational entry is an
// opt-out (a person who asked for no texts gets no promotions). Conversational
// texts go unless the newest conversational entry is an opt-out.
func (l *Ledger) CanSend(ctx context.Context, brandID int64, phone, purpose string) (bool, string, error) {
	conv, _, err := l.st.LatestConsentStatus(ctx, brandID, phone, Conversational)
	if err != nil {
		return false, "", fmt.Errorf("consent: can send: %w", err)
	}
	mk := ""
	if purpose == Marketing {
		if mk, _, err = l.st.LatestConsentStatus(ctx, brandID, phone, Marketing); err != nil {
			return false, "", fmt.Errorf("consent: can send: %w", err)
		}
	}
	if purpose != Marketing && purpose != Conversational {
		return false, "", fmt.Errorf("consent: can send: %q is not a purpose", purpose)
	}
	ok, reason := Permits(purpose, false, mk, conv)
	return ok, reason, nil
}

// Permits is the rule itself, on the newest ledger states ("" when none): a
// marketing text needs a marketing opt-in and no conversational opt-out; a
// conversational text goes unless the phone opted out. An opted-out phone gets
// nothing but the confirmation of its own opt-out (optOutConfirmation). The
// sender calls it at send time with states read in the same query as the
// message, so a STOP that arrived while the text was queued wins.
func Permits(purpose string, optOutConfirmation bool, marketing, conversational string) (bool, string) {
	if conversational == OptedOut {
		if optOutConfirmation && purpose == Conversational {
			return true, "the opt-out confirmation"
		}
		return false, "opted_out"
	}
	switch purpose {
	case Conversational:
		return true, "no_conversational_opt_out"
	case Marketing:
		switch marketing {
		case OptedIn:
			return true, "opted_in_to_marketing"
		case OptedOut:
			return false, "opted_out_of_marketing"
		}
		return false, "no_marketing_consent"
	}
	return false, "unknown_purpose"
}

// Record appends changes for a brand, all or none. Each change is checked
// first (Check), and a bad one is returned as a *FieldError prefixed with its
// index ("[1].status") before anything is written. An opt-in that would undo
// the customer's own opt-out by text is refused with an *OverrideError
// (CheckOverride), also before anything is written.
func (l *Ledger) Record(ctx context.Context, brandID int64, changes ...Change) error {
	evs := make([]store.ConsentEvent, len(changes))
	history := map[string][]store.ConsentEvent{}
	for i := range changes {
		c := changes[i]
		if err := Check(&c); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return &FieldError{Field: fmt.Sprintf("[%d].%s", i, fe.Field), Msg: fe.Msg}
			}
			return err
		}
		c.Phone = strings.TrimSpace(c.Phone)
		if c.Phone == "" {
			return &FieldError{Field: fmt.Sprintf("[%d].phone", i), Msg: "is required"}
		}
		h, ok := history[c.Phone]
		if !ok {
			var err error
			if h, err = l.st.ConsentEvents(ctx, brandID, c.Phone); err != nil {
				return fmt.Errorf("consent: record: %w", err)
			}
		}
		if err := CheckOverride(c, h); err != nil {
			return fmt.Errorf("consent: record [%d]: %w", i, err)
		}
		evs[i] = store.ConsentEvent{BrandID: brandID, Phone: c.Phone, Purpose: c.Purpose, Status: c.Status,
			Source: c.Source, Evidence: c.Evidence, MessageID: c.MessageID}
		history[c.Phone] = append(h, evs[i]) // later changes of the batch see this one
	}
	if err := l.st.AppendConsent(ctx, evs); err != nil {
		return fmt.Errorf("consent: record: %w", err)
	}
	return nil
}
