package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Media is one attachment of an MMS.
type Media struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
}

// InboundRow is one verified, parsed inbound text plus the consent decision
// Go's keyword rules made for it.
type InboundRow struct {
	SID        string
	BrandID    int64
	From, To   string
	Body       string
	Media      []Media
	Extra      map[string]string
	ReceivedAt time.Time
	Segments   int
	Encoding   string

	Consent  string // "", "opt_out", "opt_in", "help", "maybe_opt_out"
	Evidence string
	// Reply is a compliance answer to queue in the outbox (nil for none).
	Reply *string
	// JoinReply, for a START or YES from a phone that is not opted out, is
	// the answer when it confirms a double opt-in (a Join prompt sent to the
	// phone within 24 hours): receive_inbound then records the marketing
	// opt-in. nil when the brand has no opt-in keyword.
	JoinReply     *string
	JoinSegments  int
	JoinEncoding  string
	ReplySegments int
	ReplyEncoding string

	// Auto is routing's automated answer (nil for none), queued only if no
	// compliance answer comes first and no automated text reached the
	// conversation after AutoAfter, the newest one routing saw.
	Auto *AutoAnswer
	// Attention is set on the conversation when it has none ("" for none);
	// Activity goes into its history ("" for none).
	Attention, Activity string
}

// AutoAnswer is an auto-reply or after-hours acknowledgement to queue with
// an inbound text.
type AutoAnswer struct {
	Body     string
	Kind     string // auto_reply or after_hours (messages.origin)
	Ref      string // the rule's id for an auto-reply
	Segments int
	Encoding string
	After    int64 // the newest automated message id routing saw, 0 for none
	Close    bool  // close the conversation: the answer settles it
}

// InboundResult says what storing one inbound text did.
type InboundResult struct {
	MessageID      int64
	ConversationID int64
	ContactID      int64
	Duplicate      bool  // the MessageSid was already stored: nothing changed
	ReplyID        int64 // the queued compliance reply or automated answer, 0 for none
	ConsentChanged bool
}

// ReceiveInbound stores rows in one transaction and one round trip, in the given
// order. It does not notify the consoles: callers do, once it returned, with
// NotifyConversations. Callers that batch concurrent requests sort them by
// From first (see the receive_inbound migration) so concurrent batches lock
// phones in one order.
//
// The batch is sent without BEGIN/COMMIT: Postgres runs every statement before
// the protocol's Sync message as one implicit transaction, so the batch is
// atomic and committed by that Sync, saving two round trips per batch. On
// error nothing of the batch is stored.
func (s *Store) ReceiveInbound(ctx context.Context, rows []InboundRow) ([]InboundResult, error) {
	out := make([]InboundResult, len(rows))
	err := func() error {
		b := &pgx.Batch{}
		for i := range rows {
			r := &rows[i]
			media, err := json.Marshal(nonNilMedia(r.Media))
			if err != nil {
				return err
			}
			extra := appendJSONObject(nil, r.Extra)
			res := &out[i]
			var a AutoAnswer
			var autoBody *string
			if r.Auto != nil {
				a, autoBody = *r.Auto, &r.Auto.Body
			}
			b.Queue(`SELECT message_id, conversation_id, contact_id, duplicate, reply_id, consent_changed
				FROM receive_inbound($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
					$16, $17, $18, $19, $20, $21, $22, nullif($23, ''), nullif($24, ''), $25, $26, $27)`,
				r.SID, r.BrandID, r.From, r.To, r.Body, media, extra, r.ReceivedAt, r.Segments, r.Encoding,
				r.Consent, r.Evidence, r.Reply, r.ReplySegments, r.ReplyEncoding,
				autoBody, a.Kind, a.Ref, a.Segments, a.Encoding, a.After, a.Close, r.Attention, r.Activity,
				r.JoinReply, r.JoinSegments, r.JoinEncoding,
			).QueryRow(func(row pgx.Row) error {
				var msg, conv, contact, reply *int64
				if err := row.Scan(&msg, &conv, &contact, &res.Duplicate, &reply, &res.ConsentChanged); err != nil {
					return fmt.Errorf("store: receive inbound %s: %w", r.SID, err)
				}
				res.MessageID, res.ConversationID, res.ContactID, res.ReplyID = deref(msg), deref(conv), deref(contact), deref(reply)
				return nil
			})
		}
		return s.Pool.SendBatch(ctx, b).Close()
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NotifyConversations tells the consoles (LISTEN parley_conversation) that
// these conversations changed. The inbound pipeline calls it after its batch
// has committed rather than notifying inside the batch (see migration 00008:
// a notifying transaction holds a server-wide lock through its commit flush).
// It runs on the asynchronously committing pool, so it waits for no flush;
// losing it in a crash loses only a live refresh, which the consoles recover
// by resyncing when their listener reconnects.
func (s *Store) NotifyConversations(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.lazy().Exec(ctx, `SELECT pg_notify('`+ConversationChannel+`', id::text) FROM unnest($1::bigint[]) AS id`, ids); err != nil {
		return fmt.Errorf("store: notify %d conversations: %w", len(ids), err)
	}
	return nil
}

func nonNilMedia(m []Media) []Media {
	if m == nil {
		return []Media{}
	}
	return m
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func marshalMedia(m []Media) ([]byte, error) {
	b, err := json.Marshal(nonNilMedia(m))
	if err != nil {
		return nil, fmt.Errorf("store: media: %w", err)
	}
	return b, nil
}
