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
	ReserveMany(ctx context.Context, number string, mps int, maxWait time.Duration, count int) (waits []time.Duration, next time.Duration, err error)
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
	rates       rates
	lines       lines
	claims      *claimer
	recorder    *sentRecorder
	// MaxWaiters caps the workers of this process waiting on one sender
	// number (set it to half the worker's concurrency).
	MaxWaiters int
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
		SendTimeout: 15 * time.Second, metrics: m, rates: rates{st: st}, MaxWaiters: 25,
		claims: newClaimer(st), recorder: newSentRecorder(st)}
}

// bookAhead is how far ahead a proactive or bulk text books its number's
// slot: a reply arriving during a campaign is never more than that (plus one
// slot per other process) behind it.
const bookAhead = 100 * time.Millisecond

// Handle is the queue.SendHandler. The order matters: a slot of the sender
// number first (so pacing costs no query), then one round trip that claims the
// message (queued → sending) and reads everything the checks need, then the
// checks, a sleep until the slot, and the carrier.
func (s *Sender) Handle(ctx context.Context, p queue.SendPayload, a queue.Attempt) error {
	err := s.handle(ctx, p, a)
	var retryAt *queue.RetryAt
	var ce *carrier.Error
	if err == nil || errors.As(err, &retryAt) || errors.As(err, &ce) {
		return err
	}
	// Postgres or Redis failed before the carrier was called: nothing was
	// sent, and an outage must not use up the task's retries (an archived
	// task would leave its message queued for good). Try again shortly,
	// without counting a failure.
	s.log.Warn("send task could not run; trying again", "message_id", p.MessageID, "err", err)
	return &queue.RetryAt{At: time.Now().Add(5 * time.Second), Reason: err.Error()}
}

func (s *Sender) handle(ctx context.Context, p queue.SendPayload, a queue.Attempt) error {
	if p.From == "" { // a task from before payloads carried the number
		c, err := s.st.LoadForSend(ctx, p.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		p.From, p.Queue = c.From, c.Queue
	}
	mps, err := s.rates.mps(ctx, p.From)
	if err != nil {
		return err
	}
	slot, err := s.waitForSlot(ctx, p.From, mps, p.Queue)
	if err != nil {
		return err
	}
	c, claimed, err := s.claims.claim(ctx, p.MessageID)
	if err != nil {
		return err
	}
	if !claimed {
		return s.unclaimed(ctx, p.MessageID)
	}
	now := s.Now()
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
	if c.Purpose == consent.Marketing {
		// The claim-time count cannot see texts to the same phone claimed at
		// the same moment; now that ours is committed, count again.
		n, err := s.st.MarketingCount(ctx, c.BrandID, c.To, c.ID)
		if err != nil {
			return err
		}
		if n >= c.MarketingCap {
			s.metrics.Sent("suppressed")
			return s.st.Finish(ctx, c.ID, "suppressed", "frequency_cap", 0, "")
		}
	}
	// The claim was made while the slot approached; now wait for the slot
	// itself, so the time between the slot and the carrier is only the call.
	// A slot already passed (a slow claim, a pause) is not used late, where it
	// would crowd the slots after it: a new one is booked.
	for time.Since(slot) > 2*time.Millisecond {
		if slot, err = s.waitForSlot(ctx, p.From, mps, p.Queue); err != nil {
			if rerr := s.st.Requeue(context.WithoutCancel(ctx), c.ID, 0, ""); rerr != nil {
				return rerr
			}
			return err
		}
	}
	if err := sleep(ctx, time.Until(slot)); err != nil {
		if rerr := s.st.Requeue(context.WithoutCancel(ctx), c.ID, 0, ""); rerr != nil {
			return rerr
		}
		return err // the task is retried; the message is queued again
	}
	return s.send(ctx, c, a)
}

// unclaimed handles a task whose message could not be claimed.
func (s *Sender) unclaimed(ctx context.Context, id int64) error {
	c, err := s.st.LoadForSend(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Warn("send task for a message that does not exist", "message_id", id)
		return nil
	}
	if err != nil {
		return err
	}
	switch c.Status {
	case "queued", "held":
		if c.SendAt != nil {
			return &queue.RetryAt{At: *c.SendAt, Reason: "scheduled"}
		}
	case "sending":
		// An earlier attempt died mid-call or ended ambiguously: the text may
		// have gone. Sending again could send it twice; the reconciler looks
		// it up and requeues it (with a new task) only if the carrier has
		// no such message.
		s.log.Warn("send task found its message already sending; leaving it to the reconciler", "message_id", id)
		s.metrics.Sent("left_to_reconciler")
	}
	return nil // already sent, suppressed, canceled…
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
// window. A reply in a live conversation is never held: a person's answer
// (agent, auto-reply, compliance), or a conversational text with no schedule
// to a customer who wrote in the last 24 hours — judged now, not when queued.
func (s *Sender) quietHours(c store.SendCandidate, now time.Time) (time.Time, bool) {
	if c.Purpose != consent.Marketing {
		switch {
		case c.Origin == "agent" || c.Origin == "auto_reply" || c.Origin == "compliance":
			return time.Time{}, false
		case c.SendAt == nil && c.LastInboundAt != nil && now.Sub(*c.LastInboundAt) < LiveWindow:
			return time.Time{}, false
		}
	}
	loc, _ := s.zones.Resolve(c.ContactTZ, c.To, c.BrandTZ)
	region, _, _ := contact.AreaCodeInfo(c.To)
	return NextSendTime(now, loc, WindowFor(c.QuietStart, c.QuietEnd, region))
}

// waitForSlot books the sender number's next slot and sleeps until it, or
// returns a rate-limit retry when none opens within patience.
func (s *Sender) waitForSlot(ctx context.Context, from string, mps int, queueName string) (time.Time, error) {
	if queueName == queue.Replies {
		// A reply books the first free slot, however far: bulk books at most
		// bookAhead ahead, so that is never far behind.
		return s.book(ctx, from, mps, 30*time.Second)
	}
	// Other texts of one number wait in this process's line for it, at most
	// about two seconds' worth of them (the rest go back to the queue so one
	// slow number cannot hold every worker). One member of the line at a time
	// books, for as many as are waiting, the slots at most bookAhead away.
	return s.lines.get(from).take(ctx, s, from, mps, max(2, min(2*mps, s.MaxWaiters)))
}

// book takes the number's next slot once it is at most ahead away.
func (s *Sender) book(ctx context.Context, from string, mps int, ahead time.Duration) (time.Time, error) {
	for {
		wait, ok, err := s.limiter.Reserve(ctx, from, mps, ahead)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			return time.Now().Add(wait), nil
		}
		if err := sleep(ctx, wait-ahead); err != nil {
			return time.Time{}, err
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

// MaxSendAttempts is how many claims a text gets: one that failed
// retryably at its MaxSendAttempts-th claim is failed (retries_exhausted).
// Parley counts them itself (messages.attempts), so a text ends the same way
// whatever became of its task's retry counter: a task archived, lost or
// enqueued again by the relay starts asynq's count from zero.
const MaxSendAttempts = 20

func (s *Sender) send(ctx context.Context, c store.SendCandidate, _ queue.Attempt) error {
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
		return s.recorder.record(ctx, store.Sent{MessageID: c.ID, SID: sent.SID})
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
		// The carrier provably did not take it: safe to send again, until
		// Parley's own count of attempts runs out.
		if c.Attempts >= MaxSendAttempts {
			return s.st.Finish(ctx, c.ID, "failed", "retries_exhausted", ce.Code, ce.Error())
		}
		if err := s.st.Requeue(ctx, c.ID, ce.Code, ce.Error()); err != nil {
			return err
		}
		return ce // asynq retries it with backoff
	default:
		// Ambiguous (a 5xx, no answer after the request left): it may have
		// gone. It stays sending and is never resent blindly; the reconciler
		// looks it up once the carrier has had time to show it, and puts it
		// back to queued only if the carrier has no such message. The task
		// ends here: the reconciler enqueues a new one if it requeues.
		s.log.Warn("send outcome unknown; the reconciler will look it up", "message_id", c.ID, "to", c.To, "err", err)
		if err := s.st.MarkAmbiguous(ctx, c.ID, c.Attempts, ce.Code, ce.Error()); err != nil {
			// Unmarked, it is still looked up, only later (Reconciler.After).
			s.log.Error("could not record the ambiguous outcome", "message_id", c.ID, "err", err)
		}
		return nil
	}
}
