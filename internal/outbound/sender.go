package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

// Limiter is the shared per-number rate limiter (queue.Limiter in production).
type Limiter interface {
	Reserve(ctx context.Context, number string, mps int, maxWait time.Duration) (slot time.Time, ok bool, err error)
	ReserveMany(ctx context.Context, number string, mps int, maxWait time.Duration, count int) (slots []time.Time, next time.Time, err error)
	// TakeNow takes a slot at this instant if every booked slot of the
	// number is past, for a sender that woke after its own slot.
	TakeNow(ctx context.Context, number string, mps int) (slot time.Time, ok bool, err error)
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
	// maxClaimAge is MaxClaimAge (shorter in tests).
	maxClaimAge time.Duration
	lines       lines
	claims      *claimer
	recorder    *sentRecorder
	replies     waiters
	groups      groups // grouped tasks per sender number
	stopMu      sync.Mutex
	stopping    chan struct{} // closed by Stop; a new one by Start
	// GroupsPerNumber is how many grouped tasks of one sender number book
	// and send at once in this process (default 8: up to 512 texts).
	GroupsPerNumber int
	// Tasks hands on the texts of a grouped task that cannot go now.
	Tasks Batcher
	// RetryBase is the first pause after the carrier refused a text
	// retryably (default 500 ms; see CarrierBackoff).
	RetryBase time.Duration
	// Hooks emits consent.changed for a carrier's opt-out (nil: none).
	Hooks *hooks.Service
	// MaxWaiters caps the workers of this process waiting on one sender
	// number (set it to half the worker's concurrency).
	MaxWaiters int
}

// SendMetrics counts send outcomes.
type SendMetrics interface {
	Sent(outcome string)
	// Carrier counts one carrier call by sender number and its error code
	// (0: accepted).
	Carrier(from string, code int)
}

type noMetrics struct{}

func (noMetrics) Sent(string) {}

func (noMetrics) Carrier(string, int) {}

// NewSender returns the send task handler.
func NewSender(st *store.Store, c carrier.Carrier, l Limiter, publicURL string, log *slog.Logger, m SendMetrics) *Sender {
	if m == nil {
		m = noMetrics{}
	}
	return &Sender{st: st, carrier: c, limiter: l, publicURL: publicURL, log: log, Now: time.Now,
		SendTimeout: 15 * time.Second, metrics: m, rates: rates{st: st}, MaxWaiters: 25, GroupsPerNumber: 8,
		claims: newClaimer(st), recorder: newSentRecorder(st), stopping: make(chan struct{}), maxClaimAge: MaxClaimAge}
}

// LeaveSpooledOptOuts makes every claim read set first and leave the texts
// to its phones queued: their opt-outs were answered and wait in a web
// process's spool, so Postgres, which the claim reads consent from, does not
// know them yet. Call it before the sender handles anything.
func (s *Sender) LeaveSpooledOptOuts(set PhoneSet) { s.claims.marks = set }

// bookAhead is how far ahead a proactive or bulk text books its number's
// slot: a reply arriving during a campaign is never more than that (plus one
// slot per other process) behind it.
const bookAhead = 100 * time.Millisecond

// replyAhead is how far ahead a reply books: the first free slot, as long as
// it is at most this far away (queue.Horizon covers it).
const replyAhead = time.Second

// lateBy is how far past its slot a sender may still call the carrier.
// Slots are spaced 4% wider than 1/mps (queue.Margin), which absorbs 40 ms
// of delay between a slot and the carrier's receipt in any one-second
// window; most of that is left to the HTTP call, and a sender that wakes
// later than this books again instead of crowding the slots after its own.
const lateBy = 3 * time.Millisecond

// MaxClaimAge is how long after its claim was asked for a text may still be
// handed to the carrier; a sender held up longer (a paused process, a busy
// CPU, slots lost again and again) gives the claim back instead. It bounds
// when a dead worker's claim may still become a carrier call, which is what
// the reconciler waits out before it looks a claim up (Reconciler.After).
const MaxClaimAge = 20 * time.Second

// claimTooOld sends a text whose claim outlived MaxClaimAge back to the
// queue, to be claimed afresh.
func claimTooOld() error {
	return &queue.RetryAt{At: time.Now(), Reason: "claim older than MaxClaimAge"}
}

// recheckAfter is how old a claim may be and still be sent on what it read:
// a text that booked again after waking late reads consent once more.
const recheckAfter = 250 * time.Millisecond

// lateTries is how often one task books again after waking late before it
// goes back to the queue.
const lateTries = 4

// Handle is the queue.SendHandler. The order matters: a slot of the sender
// number first (so pacing costs no query), a wait until just before it, then
// one round trip that claims the message (queued → sending) and reads
// everything the checks need, the checks, and the carrier at the slot. The
// claim comes last so that a STOP (or an agent's or the API's opt-out) that
// arrives while a text waits for its slot wins.
func (s *Sender) Handle(ctx context.Context, p queue.SendPayload, a queue.Attempt) error {
	return s.outcome(p.MessageID, s.handle(ctx, p, a))
}

// outcome maps what delivering one text returned to the task's answer.
func (s *Sender) outcome(id int64, err error) error {
	var retryAt *queue.RetryAt
	var ce *carrier.Error
	if err == nil || errors.As(err, &retryAt) || errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, errStopping) {
		// The worker is stopping: the task goes back unclaimed, to run
		// again at once elsewhere.
		return &queue.RetryAt{At: time.Now(), Reason: "worker stopping"}
	}
	// Postgres or Redis failed before the carrier was called: nothing was
	// sent, and an outage must not use up the task's retries (an archived
	// task would leave its message queued for good). Try again shortly,
	// without counting a failure.
	s.log.Warn("send task could not run; trying again", "message_id", id, "err", err)
	return &queue.RetryAt{At: time.Now().Add(5 * time.Second), Reason: err.Error()}
}

// BookingLead is how far ahead of booking a slot should be at the least:
// the time a claim takes now, and a little to wake in. The limiter books no
// slot sooner (queue.Limiter.Lead), so a text whose number is idle is not
// late for its first slot because its claim took longer than the slot was
// away.
func (s *Sender) BookingLead() time.Duration {
	return s.claims.lead() + 5*time.Millisecond
}

// errStopping ends a wait when the worker is stopping.
var errStopping = errors.New("outbound: worker stopping")

// Stop makes every handler that is still waiting for a slot give its task
// back unclaimed; a handler already calling the carrier finishes its call.
// Call it before the queue server's Shutdown.
func (s *Sender) Stop() {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
}

// Start undoes Stop, for a worker started again in the same process.
func (s *Sender) Start() {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	select {
	case <-s.stopping:
		s.stopping = make(chan struct{})
	default:
	}
}

func (s *Sender) stopped() <-chan struct{} {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	return s.stopping
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
	if p.Queue == queue.Replies {
		// A number's replies waiting in this process, from booking to the
		// carrier, are capped, so one slow number's STOP wave cannot hold
		// every worker.
		leave, err := s.replies.enter(p.From, max(2, min(2*mps, s.MaxWaiters)))
		if err != nil {
			s.metrics.Sent("rate_limited")
			return err
		}
		defer leave()
	}
	return s.deliver(ctx, p, mps, time.Time{})
}

// deliver takes one text from its slot to the carrier: booked is a slot
// already booked for it (zero: it books its own).
func (s *Sender) deliver(ctx context.Context, p queue.SendPayload, mps int, booked time.Time) error {
	var c store.SendCandidate
	var claimedAt, claimAsked time.Time
	var token int64
	claimed := false
	giveBack := func(err error) error {
		if claimed {
			s.release(c.ID, token)
		}
		return err
	}
	for try := 1; ; try++ {
		slot := booked
		if try > 1 || slot.IsZero() {
			var err error
			if !booked.IsZero() {
				// A grouped task's text books again on its own, keeping its
				// claim: its group is already counted against the number.
				slot, err = s.book(ctx, p.From, mps, bookAhead)
			} else {
				slot, err = s.waitForSlot(ctx, p.From, mps, p.Queue)
			}
			if err != nil {
				return giveBack(err)
			}
		}
		// Unclaimed until just before the slot.
		if err := s.sleep(ctx, time.Until(slot)-s.claims.lead()); err != nil {
			return giveBack(err)
		}
		if !claimed {
			var ok bool
			var err error
			claimAsked = time.Now()
			if c, ok, token, err = s.claims.claim(ctx, p.MessageID); err != nil {
				return err // the claimer gives back whatever it may have claimed
			}
			if !ok {
				return s.unclaimed(ctx, p.MessageID)
			}
			claimed = true
			if done, err := s.decide(ctx, c); done || err != nil {
				var retry *queue.RetryAt
				if err != nil && !errors.As(err, &retry) { // a hold is not an error to give back
					s.release(c.ID, token)
				}
				return err
			}
			claimedAt = time.Now()
		} else if time.Since(claimedAt) > recheckAfter {
			// Booked again after waking late: consent is read once more,
			// as a STOP may have come meanwhile.
			if done, err := s.recheck(ctx, c); done || err != nil {
				if err != nil {
					return giveBack(err)
				}
				return nil
			}
			claimedAt = time.Now()
		}
		if err := s.sleep(ctx, time.Until(slot)); err != nil {
			return giveBack(err)
		}
		if time.Since(slot) <= lateBy {
			if time.Since(claimAsked) > s.maxClaimAge {
				return giveBack(claimTooOld())
			}
			return s.send(ctx, c)
		}
		// Woken too late (a busy CPU, a pause, a slow claim): this slot is
		// gone. If the number has no slot booked after it, it may send at
		// once; otherwise book again, keeping the claim (giving it back
		// would let the frequency cap count it as gone and not gone by
		// turns).
		s.metrics.Sent("late")
		if time.Since(claimedAt) > recheckAfter {
			if done, err := s.recheck(ctx, c); done || err != nil {
				if err != nil {
					return giveBack(err)
				}
				return nil
			}
			claimedAt = time.Now()
		}
		if slot, ok, err := s.limiter.TakeNow(ctx, p.From, mps); err != nil {
			return giveBack(err)
		} else if ok && time.Since(slot) <= lateBy {
			if time.Since(claimAsked) > s.maxClaimAge {
				return giveBack(claimTooOld())
			}
			return s.send(ctx, c)
		} // else: late for that one too; it is wasted, which crowds no one

		if try >= lateTries {
			return giveBack(&queue.RetryAt{At: time.Now().Add(time.Second), Reason: "woke late for its slot"})
		}
	}
}

// recheck reads consent again for a text still claimed after booking a new
// slot. done: it was suppressed, or is no longer this sender's to send.
func (s *Sender) recheck(ctx context.Context, c store.SendCandidate) (done bool, err error) {
	now, err := s.st.LoadForSend(ctx, c.ID)
	if err != nil {
		return true, err
	}
	if now.Status != "sending" {
		return true, nil
	}
	now.MarketingLast24h = c.MarketingLast24h // the cap was decided at the claim
	if ok, reason := s.sendable(now); !ok {
		s.metrics.Sent("suppressed")
		return true, s.st.Finish(ctx, c.ID, "suppressed", reason, 0, "")
	}
	return false, nil
}

// decide applies consent, the frequency cap and quiet hours to a claimed
// text. done: the text was suppressed or held and must not go now.
func (s *Sender) decide(ctx context.Context, c store.SendCandidate) (done bool, err error) {
	if ok, reason := s.sendable(c); !ok {
		s.metrics.Sent("suppressed")
		return true, s.st.Finish(ctx, c.ID, "suppressed", reason, 0, "")
	}
	if at, held := s.quietHours(c, s.Now()); held {
		s.metrics.Sent("held")
		if err := s.st.Hold(ctx, c.ID, at, "quiet_hours"); err != nil {
			return true, err
		}
		return true, &queue.RetryAt{At: at, Reason: "quiet hours"}
	}
	return false, nil
}

// release gives a claim back when the carrier was not called. It outlives the
// task's context and tries for a while: a claim left behind would wait for
// the reconciler, which finds nothing at the carrier and queues it again.
func (s *Sender) release(id, token int64) {
	if err := releaseClaims(s.st, []int64{id}, token); err != nil {
		s.log.Error("could not give back an unsent claim; the reconciler will", "message_id", id, "err", err)
	}
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
		switch c.CampaignState {
		case "canceled":
			// Given back by a sender after its campaign was canceled.
			return s.st.Finish(ctx, c.ID, "canceled", "campaign_canceled", 0, "")
		case "paused", "scheduled", "draft":
			// Waits for the campaign to run again; the relay gives it a
			// task then (overdue rows are checked every sweep).
			return nil
		}
		if c.SendAt != nil {
			return &queue.RetryAt{At: *c.SendAt, Reason: "scheduled"}
		}
		// Another task held the claim and gave it back meanwhile: this task
		// stays alive for it.
		return &queue.RetryAt{At: time.Now().Add(time.Second), Reason: "claim given back by another task"}
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
// (agent, auto-reply, after-hours acknowledgement, compliance), or a
// conversational text with no schedule
// to a customer who wrote in the last 24 hours — judged now, not when queued.
func (s *Sender) quietHours(c store.SendCandidate, now time.Time) (time.Time, bool) {
	if c.Purpose != consent.Marketing {
		switch {
		case c.Origin == "agent" || c.Origin == "auto_reply" || c.Origin == "after_hours" || c.Origin == "compliance":
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
		// A reply books the first free slot at most replyAhead away: bulk
		// books at most bookAhead ahead, so that is never far behind.
		return s.book(ctx, from, mps, replyAhead)
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
		slot, ok, err := s.limiter.Reserve(ctx, from, mps, ahead)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			return slot, nil
		}
		if err := s.sleep(ctx, max(time.Until(slot)-ahead, time.Millisecond)); err != nil {
			return time.Time{}, err
		}
	}
}

// sleep waits d, or less when ctx ends or the worker is stopping.
func (s *Sender) sleep(ctx context.Context, d time.Duration) error {
	stopping := s.stopped()
	if d <= 0 {
		select {
		case <-stopping:
			return errStopping
		default:
			return ctx.Err()
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-stopping:
		return errStopping
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

func (s *Sender) send(ctx context.Context, c store.SendCandidate) error {
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
		s.metrics.Carrier(c.From, 0)
		return s.recorder.record(ctx, store.Sent{MessageID: c.ID, SID: sent.SID})
	}
	var ce *carrier.Error
	if !errors.As(err, &ce) {
		ce = &carrier.Error{Kind: carrier.Ambiguous, Err: err}
	}
	s.metrics.Sent(ce.Kind.String())
	s.metrics.Carrier(c.From, ce.Code)
	switch ce.Kind {
	case carrier.OptedOut:
		events, err := s.st.CarrierOptOut(ctx, c.ID, fmt.Sprintf("carrier refused message %d: %s", c.ID, ce.Message))
		if err == nil {
			s.Hooks.ConsentRecorded(ctx, events)
		}
		return err
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
		//nolint:gosec // G404: retry jitter, not a secret
		jitter := rand.Float64()
		return &queue.RetryAt{At: time.Now().Add(CarrierBackoff(s.RetryBase, c.Attempts, ce.RetryAfter, jitter)), Reason: ce.Error()}
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

// CarrierBackoffCap is the longest pause between two tries of a text the
// carrier refused retryably (a 429, a full queue).
const CarrierBackoffCap = 30 * time.Second

// CarrierBackoff is the pause before the next try of a text the carrier
// refused retryably for the attempts-th time: base (500 ms when 0)
// doubling per attempt up to CarrierBackoffCap, the upper half of it
// chosen by jitter (0 ≤ jitter < 1) so texts refused together do not come
// back together, and never less than the carrier's own hint. Parley's
// count of attempts (MaxSendAttempts), not the pause, bounds how long a
// text is tried: 20 attempts cover about eight minutes of refusals, and a
// refusal that ends is followed within CarrierBackoffCap by the texts it
// held back, instead of the minutes asynq's failure backoff grows to.
func CarrierBackoff(base time.Duration, attempts int, hint time.Duration, jitter float64) time.Duration {
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	d := CarrierBackoffCap
	if n := max(attempts-1, 0); n < 16 && base<<n < CarrierBackoffCap {
		d = base << n
	}
	d = d/2 + time.Duration(float64(d/2)*jitter)
	return max(d, hint)
}
