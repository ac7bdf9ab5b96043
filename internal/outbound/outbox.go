package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

// MaxBody is the longest text Parley sends (Twilio's limit).
const MaxBody = 1600

// LiveWindow is how recently a customer must have written for a conversational
// text to count as a reply (replies queue, never held for quiet hours).
const LiveWindow = 24 * time.Hour

// Outbox is how every sender queues a text: it validates, stores the row in
// the customer's conversation, and enqueues the send task after the commit.
type Outbox struct {
	st  *store.Store
	q   Enqueuer
	log *slog.Logger
	now func() time.Time
}

// NewOutbox returns the outbox.
func NewOutbox(st *store.Store, q Enqueuer, log *slog.Logger) *Outbox {
	return &Outbox{st: st, q: q, log: log, now: time.Now}
}

// SendRequest is one text to queue. Exactly one of To, LoyaltyID and ContactID
// names the recipient.
type SendRequest struct {
	Brand     string
	To        string
	LoyaltyID string
	ContactID int64
	Body      string
	MediaURLs []string
	Purpose   string
	SendAt    *time.Time
	Origin    string // api, agent, trigger… (default api)
	OriginRef string
	// Question, when set (already checked), makes the text ask it: the
	// customer's next text within its window is the answer.
	Question *store.Question
}

// Queued is what the caller learns about a queued text.
type Queued struct {
	ID             int64
	ConversationID int64
	Status         string
	Segments       int
	Encoding       string
	QuestionID     int64 // the question it asks (0 none)
}

// FieldError is bad input: Code is an API error code, Field the input field.
type FieldError struct {
	Code, Field, Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Errors for a recipient or brand that does not exist.
var (
	ErrBrandNotFound   = errors.New("brand not found")
	ErrContactNotFound = errors.New("contact not found")
)

func bad(code, field, format string, args ...any) error {
	return &FieldError{Code: code, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Send validates r, queues the text in the recipient's conversation, and
// enqueues it. Nothing is stored when r is invalid.
func (o *Outbox) Send(ctx context.Context, r SendRequest) (Queued, error) {
	if err := o.validate(&r); err != nil {
		return Queued{}, err
	}
	b, err := o.st.BrandBySlug(ctx, r.Brand)
	if errors.Is(err, store.ErrNotFound) {
		return Queued{}, fmt.Errorf("%w: %q", ErrBrandNotFound, r.Brand)
	}
	if err != nil {
		return Queued{}, err
	}
	to := r.To
	if to != "" {
		if to, err = contact.NormalizePhone(to, b.DefaultCountry); err != nil {
			return Queued{}, bad("invalid_phone", "to", "%v", err)
		}
	}
	if to == "" {
		_, to, err = o.st.RecipientOf(ctx, b.ID, r.ContactID, r.LoyaltyID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			field := "loyalty_id"
			if r.ContactID != 0 {
				field = "contact_id"
			}
			return Queued{}, fmt.Errorf("%w: no contact with that %s", ErrContactNotFound, field)
		case errors.Is(err, store.ErrNoPhone):
			return Queued{}, bad("invalid_field", "to", "the contact has no phone to text")
		case err != nil:
			return Queued{}, err
		}
	}
	from, lastInbound, err := o.st.SenderFor(ctx, b.ID, to)
	if errors.Is(err, store.ErrNotFound) {
		return Queued{}, bad("invalid_field", "brand", "brand %q has no number to send from", r.Brand)
	}
	if err != nil {
		return Queued{}, err
	}
	q := queue.Proactive
	if r.Purpose == consent.Conversational && r.SendAt == nil && lastInbound != nil && o.now().Sub(*lastInbound) < LiveWindow {
		q = queue.Replies // the customer is in a live conversation (quiet hours are judged again at send time)
	}
	segs, enc := segment.Count(r.Body)
	media := make([]store.Media, 0, len(r.MediaURLs))
	for _, u := range r.MediaURLs {
		media = append(media, store.Media{URL: u})
	}
	row := store.OutboundRow{
		BrandID: b.ID, From: from, To: to, Body: r.Body, Media: media,
		Purpose: r.Purpose, Origin: r.Origin, OriginRef: r.OriginRef, Queue: q, SendAt: r.SendAt,
		Segments: segs, Encoding: enc,
	}
	if r.Question != nil {
		qq := *r.Question
		qq.BrandID = b.ID
		id, err := o.st.CreateQuestion(ctx, qq)
		if err != nil {
			return Queued{}, err
		}
		row.Ask = &store.Ask{QuestionID: id, Window: qq.Window, Origin: r.Origin}
	}
	rows, err := o.st.QueueOutbound(ctx, []store.OutboundRow{row})
	if err != nil {
		return Queued{}, err
	}
	stored := rows[0]
	o.enqueue(ctx, stored.ID, from, q, r.SendAt)
	out := Queued{ID: stored.ID, ConversationID: stored.ConversationID, Status: "queued", Segments: segs, Encoding: enc}
	if row.Ask != nil {
		out.QuestionID = row.Ask.QuestionID
	}
	return out, nil
}

// EnqueueReply enqueues a compliance or agent reply already stored as
// queued, to go from the brand number from.
func (o *Outbox) EnqueueReply(ctx context.Context, messageID int64, from string) {
	o.enqueue(ctx, messageID, from, queue.Replies, nil)
}

// Enqueue enqueues a text already stored as queued on queue q (a trigger's
// text, a question's follow-up), due now.
func (o *Outbox) Enqueue(ctx context.Context, messageID int64, from, q string) {
	o.enqueue(ctx, messageID, from, q, nil)
}

// enqueue hands the task to the queue after the commit. A failure here loses
// nothing: the row stays queued without enqueued_at and the relay enqueues it.
func (o *Outbox) enqueue(ctx context.Context, id int64, from, q string, at *time.Time) {
	var when time.Time
	if at != nil {
		when = *at
	}
	ctx = context.WithoutCancel(ctx)
	if err := o.q.EnqueueSend(ctx, queue.SendPayload{MessageID: id, From: from}, q, when); err != nil {
		o.log.Warn("enqueue failed; the relay will retry", "message_id", id, "err", err)
		return
	}
	if err := o.st.MarkEnqueued(ctx, []int64{id}); err != nil {
		o.log.Warn("could not record the enqueue; the relay may enqueue it again (harmless)", "message_id", id, "err", err)
	}
}

// EnqueueBulk enqueues stored texts of one sender number on the bulk queue
// in grouped tasks of up to queue.BatchSize, in id order, due at at (zero:
// now). A failure loses nothing: a row not marked enqueued is found by the
// relay, which gives it a task of its own.
func (o *Outbox) EnqueueBulk(ctx context.Context, from string, ids []int64, at time.Time) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for start := 0; start < len(ids); start += queue.BatchSize {
		chunk := ids[start:min(start+queue.BatchSize, len(ids))]
		key, err := o.q.EnqueueBatch(ctx, queue.BatchPayload{IDs: chunk, From: from}, queue.Bulk, at)
		if err != nil {
			return err
		}
		if err := o.st.MarkEnqueuedIn(ctx, chunk, key); err != nil {
			return err
		}
	}
	return nil
}

func (o *Outbox) validate(r *SendRequest) error {
	r.Brand = strings.TrimSpace(r.Brand)
	if r.Brand == "" {
		return bad("missing_field", "brand", "brand is required (the brand's slug)")
	}
	named := 0
	for _, set := range []bool{strings.TrimSpace(r.To) != "", strings.TrimSpace(r.LoyaltyID) != "", r.ContactID != 0} {
		if set {
			named++
		}
	}
	if named == 0 {
		return bad("missing_field", "to", "one of to, loyalty_id or contact_id is required")
	}
	if named > 1 {
		return bad("invalid_field", "to", "give only one of to, loyalty_id or contact_id")
	}
	if r.ContactID < 0 {
		return bad("invalid_field", "contact_id", "must be a positive id")
	}
	r.LoyaltyID = strings.TrimSpace(r.LoyaltyID)
	// to is read once the brand, and so its default country, is known.
	r.To = strings.TrimSpace(r.To)
	if strings.TrimSpace(r.Body) == "" && len(r.MediaURLs) == 0 {
		return bad("missing_field", "body", "body is empty and there is no media")
	}
	if !utf8.ValidString(r.Body) {
		return bad("invalid_field", "body", "body is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(r.Body); n > MaxBody {
		return bad("invalid_field", "body", "body is %d characters; at most %d", n, MaxBody)
	}
	if len(r.MediaURLs) > 10 {
		return bad("invalid_field", "media_urls", "at most 10 media URLs, got %d", len(r.MediaURLs))
	}
	for i, u := range r.MediaURLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return bad("invalid_field", fmt.Sprintf("media_urls[%d]", i), "%q is not an http(s) URL", u)
		}
	}
	if r.Purpose == "" {
		r.Purpose = consent.Conversational
	}
	if r.Purpose != consent.Conversational && r.Purpose != consent.Marketing {
		return bad("invalid_field", "purpose", "purpose must be conversational or marketing, got %q", r.Purpose)
	}
	if r.SendAt != nil && r.SendAt.Before(o.now().Add(-5*time.Second)) {
		return bad("invalid_field", "send_at", "send_at %s is in the past", r.SendAt.UTC().Format(time.RFC3339))
	}
	if r.Origin == "" {
		r.Origin = "api"
	}
	return nil
}
