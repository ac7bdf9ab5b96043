package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

// Limiter is the shared per-number rate limiter (queue.Limiter in production).
type Limiter interface {
	Reserve(ctx context.Context, number string, mps int, maxWait time.Duration) (wait time.Duration, ok bool, err error)
}

// Sender is the send task: it decides, at send time, whether a queued text may
// still go, paces it to its number's rate, and hands it to the carrier exactly
// once.
type Sender struct {
	st        *store.Store
	carrier   carrier.Carrier
	limiter   Limiter
	publicURL string
	log       *slog.Logger
	// Now is the clock quiet hours and schedules are judged by.
	Now func() time.Time
	// SendTimeout bounds one carrier call; past it the outcome is ambiguous.
	SendTimeout time.Duration
	metrics     SendMetrics
	zones       contact.Zones
}

// SendMetrics counts send outcomes.
type SendMetrics interface {
	Sent(outcome string)
}

type noMetrics struct{}

func (noMetrics) Sent(string) {}

// NewSender returns the send task handler.
func NewSender(st *store.Store, c carrier.Carrier, l Limiter, publicURL string, log *slog.Logger, m SendMetrics) *Sender {
	if m == nil {
		m = noMetrics{}
	}
	return &Sender{st: st, carrier: c, limiter: l, publicURL: publicURL, log: log, Now: time.Now,
		SendTimeout: 15 * time.Second, metrics: m}
}

// How far ahead each queue may book its number's next slot. A reply waits for
// its slot; bulk books only a short way ahead, so a reply arriving during a
// campaign is never more than that behind it.
var maxAhead = map[string]time.Duration{
	queue.Replies:   10 * time.Second,
	queue.Proactive: time.Second,
	queue.Bulk:      200 * time.Millisecond,
}

// patience is how long a task keeps trying for a slot before it gives its
// worker back with a rate-limit retry.
const patience = 3 * time.Second

// Handle is the queue.SendHandler.
func (s *Sender) Handle(ctx context.Context, p queue.SendPayload, a queue.Attempt) error {
	c, err := s.st.LoadForSend(ctx, p.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Warn("send task for a message that does not exist", "message_id", p.MessageID)
		return nil
	}
	if err != nil {
		return err
	}
	switch c.Status {
	case "queued", "held":
	case "sending":
		// An earlier attempt died mid-call: the text may have gone. The
		// reconciler looks it up; sending again could send it twice.
		s.log.Warn("send task found its message already sending; leaving it to the reconciler", "message_id", c.ID)
		return nil
	default:
		return nil // already sent, suppressed, canceled…
	}
	now := s.Now()
	if c.SendAt != nil && c.SendAt.After(now) {
		return &queue.RetryAt{At: *c.SendAt, Reason: "scheduled"}
	}
	if ok, reason := s.sendable(c); !ok {
		s.metrics.Sent("suppressed")
		return s.st.Finish(ctx, c.ID, "suppressed", reason, 0, "")
	}
	if at, held := s.quietHours(c, now); held {
		s.metrics.Sent("held")
		if err := s.st.Hold(ctx, c.ID, at, "quiet_hours"); err != nil {
			return err
		}
		return &queue.RetryAt{At: at, Reason: "quiet hours"}
	}
	if err := s.waitForSlot(ctx, c); err != nil {
		return err
	}
	won, err := s.st.MarkSending(ctx, c.ID)
	if err != nil || !won {
		return err
	}
	return s.send(ctx, c, a)
}

// sendable applies consent and the frequency cap.
func (s *Sender) sendable(c store.SendCandidate) (bool, string) {
	if c.Undeliverable {
		return false, "undeliverable_phone"
	}
	confirmation := c.Origin == "compliance" && c.OriginRef == string(consent.OptOut)
	if ok, reason := consent.Permits(c.Purpose, confirmation, c.Marketing, c.Conversational); !ok {
		return false, reason
	}
	if c.Purpose == consent.Marketing && c.MarketingLast24h >= c.MarketingCap {
		return false, "frequency_cap"
	}
	return true, ""
}

// quietHours holds proactive and marketing texts outside the recipient's
// window. A reply in a live conversation is never held.
func (s *Sender) quietHours(c store.SendCandidate, now time.Time) (time.Time, bool) {
	if c.Queue == queue.Replies && c.Purpose != consent.Marketing {
		return time.Time{}, false
	}
	loc, _ := s.zones.Resolve(c.ContactTZ, c.To, c.BrandTZ)
	region, _, _ := contact.AreaCodeInfo(c.To)
	return NextSendTime(now, loc, WindowFor(c.QuietStart, c.QuietEnd, region))
}

// waitForSlot books the sender number's next slot and sleeps until it, or
// returns a rate-limit retry when none opens within patience.
func (s *Sender) waitForSlot(ctx context.Context, c store.SendCandidate) error {
	ahead, ok := maxAhead[c.Queue]
	if !ok {
		ahead = maxAhead[queue.Proactive]
	}
	deadline := time.Now().Add(patience)
	for {
		wait, ok, err := s.limiter.Reserve(ctx, c.From, c.MPS, ahead)
		if err != nil {
			return err
		}
		if ok {
			return sleep(ctx, wait)
		}
		if time.Now().Add(wait - ahead).After(deadline) {
			s.metrics.Sent("rate_limited")
			return &queue.RetryAt{At: time.Now().Add(wait - ahead), Reason: "sender number at its rate"}
		}
		if err := sleep(ctx, min(wait-ahead+time.Millisecond, 250*time.Millisecond)); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StatusCallbackURL is where the carrier reports a message's delivery, with
// our id so a callback can be matched before the SID is known.
func StatusCallbackURL(publicURL string, messageID int64) string {
	return publicURL + "/webhooks/twilio/status?m=" + strconv.FormatInt(messageID, 10)
}

func (s *Sender) send(ctx context.Context, c store.SendCandidate, a queue.Attempt) error {
	media := make([]string, 0, len(c.Media))
	for _, m := range c.Media {
		media = append(media, m.URL)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.SendTimeout)
	defer cancel()
	sent, err := s.carrier.Send(cctx, carrier.Outgoing{
		MessageID: c.ID, From: c.From, To: c.To, Body: c.Body, MediaURLs: media,
		StatusCallback: StatusCallbackURL(s.publicURL, c.ID),
	})
	// From here on the outcome must be recorded even if the task's context ends.
	ctx = context.WithoutCancel(ctx)
	if err == nil {
		s.metrics.Sent("sent")
		if err := s.st.MarkSent(ctx, c.ID, sent.SID); err != nil {
			return err
		}
		_, err := s.st.ApplyPendingStatuses(ctx, sent.SID, Ranks)
		return err
	}
	var ce *carrier.Error
	if !errors.As(err, &ce) {
		ce = &carrier.Error{Kind: carrier.Ambiguous, Err: err}
	}
	s.metrics.Sent(ce.Kind.String())
	switch ce.Kind {
	case carrier.OptedOut:
		return s.st.CarrierOptOut(ctx, c.ID, fmt.Sprintf("carrier refused message %d: %s", c.ID, ce.Message))
	case carrier.BadNumber:
		if err := s.st.MarkUndeliverable(ctx, c.To); err != nil {
			return err
		}
		return s.st.Finish(ctx, c.ID, "failed", "undeliverable_phone", ce.Code, ce.Message)
	case carrier.Permanent:
		return s.st.Finish(ctx, c.ID, "failed", "carrier_rejected", ce.Code, ce.Message)
	case carrier.Retryable, carrier.RateLimited:
		if a.Last() {
			return s.st.Finish(ctx, c.ID, "failed", "retries_exhausted", ce.Code, ce.Error())
		}
		if err := s.st.Requeue(ctx, c.ID, ce.Code, ce.Error()); err != nil {
			return err
		}
		return ce // asynq retries it with backoff
	default: // Ambiguous: it may have gone. Never resend blindly.
		s.log.Warn("send outcome unknown; the reconciler will look it up", "message_id", c.ID, "to", c.To, "err", err)
		return nil
	}
}
