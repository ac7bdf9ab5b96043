// Package outbound is the delivery side: the outbox, the send task, the shared
// rate limiter and the application of delivery statuses.
package outbound

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/store"
)

// Ranks orders delivery statuses: a message only ever moves to a higher rank.
// Twilio's own pre-send statuses (accepted, scheduled, queued) sit with ours.
// Every status Twilio documents is here, so that none is refused with a 400
// (Twilio does not retry a callback): partially_delivered (some parts of a
// long message arrived) is final like delivered; receiving and received are
// inbound statuses, ranked 0 so they never move an outbound message.
//
// unknown (an ambiguous send the carrier had no record of) sits below sent:
// if the carrier reports on it after all, the report wins and records the SID,
// so nobody resends a text that was delivered.
var Ranks = map[string]int{
	"held": 0, "receiving": 0, "received": 0,
	"queued": 1, "accepted": 1, "scheduled": 1,
	"sending":   2,
	"unknown":   3,
	"sent":      4,
	"delivered": 5, "undelivered": 5, "failed": 5, "partially_delivered": 5, "read": 6,
	"canceled": 5, "suppressed": 5,
}

// Statuses is the message store's status side.
type Statuses struct {
	st *store.Store
	// Hooks emits message.status for each status applied (nil: none).
	Hooks *hooks.Service
}

// NewStatuses returns the status applier.
func NewStatuses(st *store.Store) *Statuses { return &Statuses{st: st} }

// Callback is a delivery status report for one message.
type Callback struct {
	SID          string
	MessageID    int64 // from the ?m= of our StatusCallback URL; 0 when absent
	Status       string
	ErrorCode    int
	ErrorMessage string
}

// ErrUnknownStatus is returned for a status name Parley does not know.
var ErrUnknownStatus = fmt.Errorf("unknown message status")

// Apply moves the message forward to the reported status (never back). A report
// for a message not stored yet is kept and applied once its SID is recorded.
func (s *Statuses) Apply(ctx context.Context, c Callback) (store.StatusOutcome, error) {
	rank, ok := Ranks[c.Status]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownStatus, c.Status)
	}
	out, err := s.st.ApplyStatus(ctx, store.StatusUpdate{
		SID: c.SID, MessageID: c.MessageID, Status: c.Status, Rank: rank,
		ErrorCode: c.ErrorCode, ErrorMessage: c.ErrorMessage,
	}, Ranks)
	if err == nil && out == store.StatusApplied {
		s.Hooks.MessageStatus(ctx, c.SID, c.MessageID)
	}
	return out, err
}

// RecordSID stores the SID the carrier gave a sent message and applies any
// callbacks that arrived for it before the create call returned.
func (s *Statuses) RecordSID(ctx context.Context, messageID int64, sid string) error {
	return recordSent(ctx, s.st, []store.Sent{{MessageID: messageID, SID: sid}})
}

// recordSent is the one way a carrier SID is recorded — by the sender (in
// batches), the reconciler and RecordSID: write the SIDs, then apply the
// callbacks that were waiting for them, forward only.
func recordSent(ctx context.Context, st *store.Store, sent []store.Sent) error {
	pending, err := st.MarkSent(ctx, sent)
	if err != nil {
		return err
	}
	for _, u := range pending {
		u.Rank = Ranks[u.Status]
		if _, err := st.ApplyStatus(ctx, u, Ranks); err != nil {
			return err
		}
	}
	return nil
}
