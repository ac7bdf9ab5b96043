// Package inbound turns a verified Twilio webhook into a stored message in the
// right customer's conversation: exactly once, in one transaction, and never
// lost (a durable spool takes over while Postgres is unreachable).
package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/routing"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

// Message is one inbound text as Twilio sent it, already verified and parsed.
// It is also the spool's record format, so its JSON names are stable.
type Message struct {
	SID                 string            `json:"sid"`
	AccountSID          string            `json:"account_sid,omitempty"`
	MessagingServiceSID string            `json:"messaging_service_sid,omitempty"`
	From                string            `json:"from"`
	To                  string            `json:"to"`
	Body                string            `json:"body"`
	Media               []store.Media     `json:"media,omitempty"`
	OptOutType          string            `json:"opt_out_type,omitempty"`
	Extra               map[string]string `json:"extra,omitempty"`
	ReceivedAt          time.Time         `json:"received_at"`
}

// Result says what receiving one message did.
type Result struct {
	store.InboundResult
	Spooled bool // Postgres was unreachable: the message waits in the spool
}

// ErrUnknownNumber means the To number belongs to no brand.
var ErrUnknownNumber = errors.New("the number is not a brand number")

// Metrics is what the pipeline reports; nil-safe counters are provided by the
// caller (Prometheus in production).
type Metrics interface {
	Received(outcome string) // "stored", "duplicate", "spooled"
	SpoolDepth(n int)
}

// Service receives inbound texts. Concurrent calls are grouped into batches
// that share one transaction and one commit, which is what lets the full
// pipeline keep up with a bare insert.
type Service struct {
	st       *store.Store
	statuses *outbound.Statuses
	brands   *Brands
	book     *automation.Book
	spool    *Spool
	log      *slog.Logger
	metrics  Metrics

	reqs     chan *request
	maxBatch int
	onReply  func(context.Context, int64, string)
	onStored func()
	// inFlightWait: see Options.InFlightWait.
	inFlightWait time.Duration
	marks        OptOutMarks
	hooks        *hooks.Service
	wg           sync.WaitGroup
	stop         chan struct{}
	kick         chan struct{}
}

type request struct {
	row  store.InboundRow
	done chan outcome
}

type outcome struct {
	res store.InboundResult
	err error
}

// Options tune the batcher.
type Options struct {
	// OnReply is called, after the commit, with each compliance reply the
	// pipeline queued (the outbox enqueues its send task).
	OnReply func(ctx context.Context, messageID int64, from string)
	// Routing is each brand's auto-replies and hours (nil: none, every text
	// waits for a person).
	Routing *automation.Book
	// OnStored is called after each commit that stored new texts (the
	// dispatcher assigns their conversations at once).
	OnStored func()
	// Hooks emits message.received and consent.changed to the brand's
	// webhooks (nil: none).
	Hooks    *hooks.Service
	Batchers int // concurrent batch transactions (default 2: more batches contend on phone locks and commits)
	MaxBatch int // messages per transaction at most (default 64)
	// InFlightWait bounds how long an opt-out's answer waits for texts to
	// its phone claimed before it committed (default 3 s; see awaitInFlight).
	InFlightWait time.Duration
	// OptOutMarks records the phones of opt-outs answered from the spool,
	// for the senders to leave alone until the replay (nil: none).
	OptOutMarks OptOutMarks
}

// OptOutMarks is the set of phones whose opt-out waits in a spool
// (queue.SpooledOptOuts in production).
type OptOutMarks interface {
	Mark(ctx context.Context, phone string) error
	Unmark(ctx context.Context, phones ...string) error
}

// NewService starts the batchers and the spool replayer; Close stops them.
func NewService(st *store.Store, brands *Brands, spool *Spool, statuses *outbound.Statuses, log *slog.Logger, m Metrics, opt Options) *Service {
	if opt.Batchers <= 0 {
		opt.Batchers = 2
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 64
	}
	if opt.InFlightWait <= 0 {
		opt.InFlightWait = 3 * time.Second
	}
	s := &Service{
		st: st, statuses: statuses, brands: brands, book: opt.Routing, spool: spool, log: log, metrics: m,
		reqs: make(chan *request, 1024), maxBatch: opt.MaxBatch, onReply: opt.OnReply, onStored: opt.OnStored, inFlightWait: opt.InFlightWait,
		marks: opt.OptOutMarks,
		hooks: opt.Hooks, stop: make(chan struct{}), kick: make(chan struct{}, 1),
	}
	for i := 0; i < opt.Batchers; i++ {
		s.wg.Add(1)
		go s.batcher()
	}
	s.wg.Add(1)
	go s.replayer()
	m.SpoolDepth(spool.Pending())
	return s
}

// Close stops accepting work and waits for batches and the replayer to finish.
func (s *Service) Close() {
	close(s.stop)
	s.wg.Wait()
	_ = s.spool.Close()
}

// Receive stores m: dedupe on MessageSid, identity, conversation, consent
// keywords and the compliance reply, all in one transaction. If Postgres is
// unreachable — or earlier messages still wait in the spool, so order is kept
// — m is appended to the spool and Result.Spooled is true: the caller may
// still answer 200 because the message is durable.
func (s *Service) Receive(ctx context.Context, m Message) (Result, error) {
	// With texts waiting in the spool this one goes there too: routing is
	// decided when it is replayed, not now against a database that may be away.
	row, err := s.prepare(ctx, m, s.spool.Pending() == 0)
	if errors.Is(err, errBrandsUnavailable) {
		return s.toSpool(m)
	}
	if err != nil {
		return Result{}, err
	}
	if s.spool.Pending() > 0 {
		return s.toSpool(m)
	}
	res, err := s.submit(ctx, row)
	if err != nil {
		if store.IsUnavailable(err) || errors.Is(err, errBusy) {
			s.log.Warn("postgres unavailable, spooling inbound message", "sid", m.SID, "err", err)
			return s.toSpool(m)
		}
		return Result{}, err
	}
	if row.Consent == string(consent.OptOut) && res.ConsentChanged {
		s.awaitInFlight(ctx, row.BrandID, row.From)
	}
	s.record(ctx, res, m.To)
	s.hooks.MessageReceived(ctx, row, res)
	return Result{InboundResult: res}, nil
}

// inFlightClaims is the age past which a text's claim is a dead worker's
// (the reconciler's, not an opt-out's to wait for): the carrier call's own
// timeout and a little.
const inFlightClaims = 20 * time.Second

// awaitInFlight holds an opt-out's answer until no text to the phone is
// between its claim and the carrier's answer. A sender that claimed a text
// before the opt-out committed read consent as it was; its carrier call
// can land a moment after. Waiting here puts that call before the webhook's
// 200, and the confirmation (enqueued after this) after it, so the
// confirmation is the last text the customer gets. Nothing is claimed
// after the commit: every later claim reads the opt-out.
func (s *Service) awaitInFlight(ctx context.Context, brandID int64, phone string) {
	deadline := time.Now().Add(s.inFlightWait)
	for {
		busy, err := s.st.InFlightTo(ctx, brandID, phone, inFlightClaims)
		if err != nil || !busy {
			return
		}
		if time.Now().After(deadline) {
			s.log.Warn("opt-out answered with a text to its phone still at the carrier", "phone", phone, "waited", s.inFlightWait)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Service) record(ctx context.Context, res store.InboundResult, brandNumber string) {
	if res.ReplyID != 0 && s.onReply != nil {
		s.onReply(ctx, res.ReplyID, brandNumber)
	}
	if res.Duplicate {
		s.metrics.Received("duplicate")
	} else {
		s.metrics.Received("stored")
	}
}

func (s *Service) toSpool(m Message) (Result, error) {
	if err := s.append(Record{Message: &m}); err != nil {
		return Result{}, fmt.Errorf("inbound: spool %s: %w", m.SID, err)
	}
	if s.marks != nil && consent.Classify(m.Body, m.OptOutType) == consent.OptOut {
		// Answered 200 now, stored when Postgres is back: until then the
		// senders must not go by what Postgres says of this phone.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.marks.Mark(ctx, m.From)
		cancel()
		if err != nil {
			s.log.Warn("spooled opt-out not marked for the senders; a text claimed before its replay may go", "from", m.From, "err", err)
		}
	}
	s.metrics.Received("spooled")
	return Result{Spooled: true}, nil
}

func (s *Service) append(r Record) error {
	if err := s.spool.Append(r); err != nil {
		return err
	}
	s.metrics.SpoolDepth(s.spool.Pending())
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// ApplyStatus applies a delivery status callback, or spools it when Postgres
// is unreachable so that it is applied later rather than lost (Twilio does not
// retry a failed callback). spooled reports the latter.
func (s *Service) ApplyStatus(ctx context.Context, cb outbound.Callback) (out store.StatusOutcome, spooled bool, err error) {
	out, err = s.statuses.Apply(ctx, cb)
	if err != nil && store.IsUnavailable(err) {
		if err := s.append(Record{Status: &cb}); err != nil {
			return "", false, fmt.Errorf("inbound: spool status of %s: %w", cb.SID, err)
		}
		return "", true, nil
	}
	return out, false, err
}

// prepare finds the brand and makes the consent decision, and with route
// routing's (see route).
func (s *Service) prepare(ctx context.Context, m Message, route bool) (store.InboundRow, error) {
	b, err := s.brands.ByNumber(ctx, m.To)
	if err != nil {
		return store.InboundRow{}, err
	}
	segs, enc := segment.Count(m.Body)
	row := store.InboundRow{
		SID: m.SID, BrandID: b.ID, From: m.From, To: m.To, Body: m.Body, Media: m.Media,
		Extra: m.Extra, ReceivedAt: m.ReceivedAt, Segments: segs, Encoding: enc,
	}
	action := consent.Classify(m.Body, m.OptOutType)
	// The brand's opt-in keyword (JOIN) starts a double opt-in; a START or
	// YES may complete one (receive_inbound knows whether a request to
	// confirm went to the phone in the last 24 hours).
	var set routing.Settings
	if s.book != nil {
		set = s.book.For(ctx, b)
	}
	if action == consent.None || action == consent.OptIn {
		if kw := set.OptInKeyword; kw != "" {
			if action == consent.None && routing.Normalize(m.Body) == kw {
				action = consent.Join
			} else if action == consent.OptIn {
				join := consent.JoinConfirmation(b.Name)
				row.JoinReply = &join
				row.JoinSegments, row.JoinEncoding = segment.Count(join)
			}
		}
	}
	row.Consent = string(action)
	if action != consent.None {
		row.Evidence = fmt.Sprintf("inbound text %s: %q", m.SID, truncate(m.Body, 160))
		if m.OptOutType != "" {
			row.Evidence += " (Twilio OptOutType=" + m.OptOutType + ")"
		}
	}
	if reply := consent.Reply(action, b.Name, b.HelpText); reply != "" {
		row.Reply = &reply
		row.ReplySegments, row.ReplyEncoding = segment.Count(reply)
	}
	if route {
		s.route(ctx, &row, b, action, set)
	}
	return row, nil
}

// routingReadTimeout bounds the read of a text's routing context.
const routingReadTimeout = 300 * time.Millisecond

// route asks routing for an automated answer. Most texts cost nothing here:
// unless a rule matches or the brand is closed, nothing is read. Otherwise
// the customer's context is read (outside the transaction: receive_inbound
// re-checks that no automated text went out since) and the decision rides
// with the row, committed with the text or not at all.
func (s *Service) route(ctx context.Context, row *store.InboundRow, b store.Brand, action consent.Action, set routing.Settings) {
	if s.book == nil {
		return
	}
	// STOP, HELP and plain-language opt-outs win over every rule; START and
	// YES only when they change consent, which receive_inbound knows.
	compliance := action != consent.None && action != consent.OptIn
	if compliance || !routing.NeedsContext(set, row.Body, row.ReceivedAt) {
		return
	}
	// Bounded: a slow database delays the text's answer, never the text.
	rctx, cancel := context.WithTimeout(ctx, routingReadTimeout)
	defer cancel()
	rc, err := s.st.RoutingContext(rctx, b.ID, row.From)
	if err != nil {
		// The text matters more than its automated answer: it goes on to a person.
		s.log.Warn("inbound: routing context not read; no automated answer", "sid", row.SID, "err", err)
		return
	}
	in := routing.Input{Body: row.Body, From: row.From, At: row.ReceivedAt,
		Contact: personalize.NewData(rc.Name, row.From, rc.LoyaltyID, rc.Attributes),
		Reopens: rc.ConversationID == 0 || rc.Status != "open"}
	in.Local, _ = contact.ResolveTimezone(rc.Timezone, row.From, b.Timezone)
	var after int64
	for i, a := range rc.Automated {
		if i == 0 {
			after = a.ID
		}
		h := routing.Automated{At: a.At, Body: a.Body}
		if a.AnsweredAt != nil {
			h.AnsweredAt = *a.AnsweredAt
		}
		in.History = append(in.History, h)
		if a.Kind == routing.KindAfterHours && in.LastAckAt.IsZero() {
			in.LastAckAt = a.At
		}
	}
	d := routing.Decide(in, set)
	row.Attention = d.Attention
	switch {
	case d.Reply != "":
		segs, enc := segment.Count(d.Reply)
		row.Auto = &store.AutoAnswer{Body: d.Reply, Kind: d.Kind, Segments: segs, Encoding: enc, After: after, Close: d.Close}
		row.Activity = "after-hours acknowledgement sent"
		if d.Kind == routing.KindAutoReply {
			row.Auto.Ref = fmt.Sprint(d.RuleID)
			row.Activity = fmt.Sprintf("auto-reply #%d answered", d.RuleID)
			if d.Close {
				row.Activity += "; closed, since the answer settles it"
			} else {
				row.Activity += "; waiting for a person"
			}
		}
	case d.Withheld != "":
		row.Activity = "no automated answer: " + d.Withheld
	}
}

// errBusy means the batchers could not take the message in time (Postgres is
// slow): it is spooled like an outage.
var errBusy = errors.New("inbound: the batchers are saturated")

// batchTimeout bounds one batch, well under Twilio's 15 s and the webhook's own
// deadline, so a hung Postgres ends in a spooled message, not a failed request.
const batchTimeout = 3 * time.Second

func (s *Service) submit(ctx context.Context, row store.InboundRow) (store.InboundResult, error) {
	r := &request{row: row, done: make(chan outcome, 1)}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case s.reqs <- r:
	case <-t.C:
		return store.InboundResult{}, errBusy
	case <-ctx.Done():
		return store.InboundResult{}, errBusy
	case <-s.stop:
		return store.InboundResult{}, errors.New("inbound: shutting down")
	}
	// Once queued, the batch runs to completion even if the caller gives up, so
	// the answer is waited for: a message must not be half-known.
	o := <-r.done
	return o.res, o.err
}

// batcher takes whatever requests are waiting (up to maxBatch), stores them in
// one transaction and answers each.
func (s *Service) batcher() {
	defer s.wg.Done()
	batch := make([]*request, 0, s.maxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.stop:
			return
		}
	fill:
		for len(batch) < s.maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.run(batch)
	}
}

func (s *Service) run(batch []*request) {
	// Same phone order in every batch: advisory locks never deadlock. The stable
	// sort keeps one customer's texts in arrival order.
	sort.SliceStable(batch, func(i, j int) bool { return batch[i].row.From < batch[j].row.From })
	rows := make([]store.InboundRow, len(batch))
	for i, r := range batch {
		rows[i] = r.row
	}
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	res, err := s.st.ReceiveInbound(ctx, rows)
	if err == nil {
		for i, r := range batch {
			r.done <- outcome{res: res[i]}
		}
		s.notify(ctx, res...)
		return
	}
	if store.IsUnavailable(err) {
		for _, r := range batch {
			r.done <- outcome{err: err}
		}
		return
	}
	// One bad row, a deadlock with another batch or a race on a new
	// conversation failed the batch: store each on its own, retrying the
	// transient conflicts, so the others are not punished.
	for _, r := range batch {
		one, err := s.receiveOne(r.row)
		r.done <- outcome{res: one, err: err}
	}
}

func (s *Service) receiveOne(row store.InboundRow) (store.InboundResult, error) {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		var res []store.InboundResult
		res, err = s.st.ReceiveInbound(ctx, []store.InboundRow{row})
		if err == nil {
			s.notify(ctx, res[0])
			cancel()
			return res[0], nil
		}
		cancel()
		if !store.IsConflict(err) {
			return store.InboundResult{}, err
		}
		time.Sleep(time.Duration(10<<attempt) * time.Millisecond)
	}
	return store.InboundResult{}, err
}

// notify tells the consoles about the conversations that stored texts
// changed, once their transaction committed (a duplicate changed nothing).
// A failure only delays a console's live refresh, so it is logged, not
// returned: the texts are stored.
func (s *Service) notify(ctx context.Context, res ...store.InboundResult) {
	ids := make([]int64, 0, len(res))
	for _, r := range res {
		if r.Duplicate || r.ConversationID == 0 || slices.Contains(ids, r.ConversationID) {
			continue
		}
		ids = append(ids, r.ConversationID)
	}
	if err := s.st.NotifyConversations(ctx, ids); err != nil {
		s.log.Warn("inbound: consoles not notified of new texts", "conversations", len(ids), "err", err)
	}
	if len(ids) > 0 && s.onStored != nil {
		s.onStored()
	}
}

// replayer drains the spool once Postgres answers again.
func (s *Service) replayer() {
	defer s.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.kick:
			// Give a failing database a moment rather than spinning.
			select {
			case <-time.After(250 * time.Millisecond):
			case <-s.stop:
				return
			}
		}
		if s.spool.Pending() == 0 {
			continue
		}
		s.Replay(context.Background())
	}
}

// Replay stores every spooled message in arrival order. It returns how many
// were stored; it stops early (leaving the rest for the next call) if Postgres
// is still unreachable.
func (s *Service) Replay(ctx context.Context) int {
	if err := s.st.Ping(ctx); err != nil {
		return 0
	}
	n, err := s.spool.DrainBatches(s.maxBatch, func(recs []Record) error {
		if err := s.replayBatch(ctx, recs); err != nil {
			return err
		}
		s.unmarkOptOuts(ctx, recs)
		return nil
	})
	s.metrics.SpoolDepth(s.spool.Pending())
	if n > 0 || err != nil {
		s.log.Info("spool replay", "stored", n, "left", s.spool.Pending(), "err", err)
	}
	return n
}

// unmarkOptOuts takes the phones of replayed opt-outs out of the senders'
// set: Postgres has their consent now.
func (s *Service) unmarkOptOuts(ctx context.Context, recs []Record) {
	if s.marks == nil {
		return
	}
	var phones []string
	for _, r := range recs {
		if r.Message != nil && consent.Classify(r.Message.Body, r.Message.OptOutType) == consent.OptOut {
			phones = append(phones, r.Message.From)
		}
	}
	if err := s.marks.Unmark(ctx, phones...); err != nil {
		s.log.Warn("replayed opt-outs still marked; their phones' texts wait an hour", "phones", len(phones), "err", err)
	}
}

// replayBatch stores consecutive spooled records. Texts go to Postgres as
// one batch, as live texts do (one round trip, one commit): replayed one
// by one, a spool filled under load drained slower than texts kept
// arriving behind it, so it never emptied and every text — a STOP too —
// waited in it for minutes (found by the soak). A status record ends the
// batch before it, so arrival order holds; a batch Postgres refuses for a
// reason other than an outage goes again record by record.
func (s *Service) replayBatch(ctx context.Context, recs []Record) error {
	var rows []store.InboundRow
	var batch []Record
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		defer func() { rows, batch = rows[:0], batch[:0] }()
		order := make([]int, len(rows))
		for i := range order {
			order[i] = i
		}
		// The live batches' lock order: sorted by phone, stable.
		sort.SliceStable(order, func(a, b int) bool { return rows[order[a]].From < rows[order[b]].From })
		sorted := make([]store.InboundRow, len(rows))
		for i, k := range order {
			sorted[i] = rows[k]
		}
		bctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		res, err := s.st.ReceiveInbound(bctx, sorted)
		cancel()
		if err == nil {
			for i, k := range order {
				s.record(ctx, res[i], batch[k].Message.To)
				s.hooks.MessageReceived(ctx, sorted[i], res[i])
			}
			s.notify(ctx, res...)
			return nil
		}
		if store.IsUnavailable(err) {
			return err
		}
		for _, r := range batch {
			if err := s.replayOrSetAside(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range recs {
		if r.Message == nil {
			if err := flush(); err != nil {
				return err
			}
			if err := s.replayOrSetAside(ctx, r); err != nil {
				return err
			}
			continue
		}
		row, err := s.prepare(ctx, *r.Message, true)
		if err != nil {
			if err := flush(); err != nil {
				return err
			}
			if err := s.replayOrSetAside(ctx, r); err != nil { // judges the error as before
				return err
			}
			continue
		}
		rows, batch = append(rows, row), append(batch, r)
	}
	return flush()
}

// replayOrSetAside replays one record; one Postgres refuses whatever we do
// goes to the dead-letter file so it does not block every text behind it.
func (s *Service) replayOrSetAside(ctx context.Context, r Record) error {
	err := s.replayOne(ctx, r)
	if err == nil || store.IsUnavailable(err) {
		return err // an outage again: stop, the record stays for the next try
	}
	s.log.Error("spooled webhook cannot be stored; moved to the dead-letter file", "err", err)
	s.metrics.Received("dead_letter")
	return s.spool.DeadLetter(r, err)
}

func (s *Service) replayOne(ctx context.Context, r Record) error {
	if r.Status != nil {
		_, err := s.statuses.Apply(ctx, *r.Status)
		if errors.Is(err, outbound.ErrUnknownStatus) {
			return nil // validated before spooling; never block the spool on it
		}
		return err
	}
	if r.Message == nil {
		return nil
	}
	m := *r.Message
	row, err := s.prepare(ctx, m, true)
	if errors.Is(err, ErrUnknownNumber) {
		s.log.Error("spooled message for a number that is no brand's, dropped", "sid", m.SID, "to", m.To)
		return nil
	}
	if err != nil {
		return err
	}
	res, err := s.receiveOne(row)
	if err != nil {
		return err
	}
	s.record(ctx, res, m.To)
	s.hooks.MessageReceived(ctx, row, res)
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Pending is how many messages wait in the spool.
func (s *Service) Pending() int { return s.spool.Pending() }

// SpoolForTest appends m to the spool as the webhook does during an outage
// (tests put records there that the webhook would refuse).
func (s *Service) SpoolForTest(m Message) (Result, error) { return s.toSpool(m) }
