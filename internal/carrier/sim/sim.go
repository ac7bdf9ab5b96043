// Package sim is the carrier behind `parley dev`: it accepts every text
// in-process, so the whole outbound path runs without a Twilio account, and
// then reports delivery to the message's StatusCallback exactly as Twilio
// would (form POST, X-Twilio-Signature), so the dev phone and the status
// webhook see real traffic.
package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/carrier/twilio"
)

// AccountSID is the account the simulator reports in its callbacks; it is the
// same placeholder the dev phone uses for inbound texts.
const AccountSID = "AC00000000000000000000000000000000"

// Default delays before the "sent" and then the "delivered" callback: long
// enough to see a text go queued → sent → delivered on the dev phone.
const (
	DefaultToSent      = 300 * time.Millisecond
	DefaultToDelivered = 700 * time.Millisecond
)

// Option adjusts a Carrier at construction.
type Option func(*Carrier)

// WithDelays sets how long after Send the "sent" callback goes, and how long
// after that the "delivered" one (tests use a few milliseconds).
func WithDelays(toSent, toDelivered time.Duration) Option {
	return func(c *Carrier) { c.toSent, c.toDelivered = toSent, toDelivered }
}

// WithLogger reports callbacks that could not be delivered, which otherwise
// fail silently (the dev server might not be listening yet).
func WithLogger(l *slog.Logger) Option {
	return func(c *Carrier) { c.log = l }
}

// Carrier is the in-process simulator; it implements carrier.Carrier.
type Carrier struct {
	authToken           string
	hc                  *http.Client
	log                 *slog.Logger
	toSent, toDelivered time.Duration
	ctx                 context.Context
	cancel              context.CancelFunc
	wg                  sync.WaitGroup
	mu                  sync.Mutex
	closed              bool
	msgs                []carrier.Found
	index               map[string]int // SID → position in msgs
}

var _ carrier.Carrier = (*Carrier)(nil)

// New returns a running simulator. Callbacks are signed with authToken (the
// token the status webhook verifies) and posted with httpClient (nil: a
// client with a 10 s timeout). Call Close to stop pending callbacks.
func New(authToken string, httpClient *http.Client, opts ...Option) *Carrier {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Carrier{
		authToken: authToken, hc: httpClient, log: slog.New(slog.DiscardHandler),
		toSent: DefaultToSent, toDelivered: DefaultToDelivered,
		ctx: ctx, cancel: cancel, index: map[string]int{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Send accepts the text at once (status "queued") and schedules its
// callbacks in the background; it never waits on them.
func (c *Carrier) Send(ctx context.Context, m carrier.Outgoing) (carrier.Sent, error) {
	if err := ctx.Err(); err != nil {
		return carrier.Sent{}, &carrier.Error{Kind: carrier.Retryable, Message: "not sent", Err: err}
	}
	if m.From == "" || m.To == "" {
		return carrier.Sent{}, &carrier.Error{Kind: carrier.Permanent, Message: "sim: From and To are required"}
	}
	sid := newSID()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return carrier.Sent{}, &carrier.Error{Kind: carrier.Retryable, Message: "sim: carrier closed"}
	}
	c.index[sid] = len(c.msgs)
	c.msgs = append(c.msgs, carrier.Found{
		SID: sid, Status: "queued", From: m.From, To: m.To, Body: m.Body, DateCreated: time.Now().UTC(),
	})
	c.wg.Add(1)
	c.mu.Unlock()
	go c.deliver(sid, m)
	return carrier.Sent{SID: sid, Status: "queued"}, nil
}

// deliver moves one message to sent then delivered, posting each status.
func (c *Carrier) deliver(sid string, m carrier.Outgoing) {
	defer c.wg.Done()
	for _, step := range []struct {
		status string
		after  time.Duration
	}{{"sent", c.toSent}, {"delivered", c.toDelivered}} {
		t := time.NewTimer(step.after)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		c.mu.Lock()
		c.msgs[c.index[sid]].Status = step.status
		c.mu.Unlock()
		if m.StatusCallback != "" {
			c.post(m.StatusCallback, url.Values{
				"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {step.status}, "SmsStatus": {step.status},
				"AccountSid": {AccountSID}, "From": {m.From}, "To": {m.To}, "ApiVersion": {"2010-04-01"},
			})
		}
	}
}

// post sends one status callback signed like Twilio's.
func (c *Carrier) post(callback string, form url.Values) {
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, callback, strings.NewReader(form.Encode()))
	if err != nil {
		c.log.Warn("sim: bad status callback URL", "url", callback, "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(c.authToken, callback, form))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := c.hc.Do(req)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			c.log.Warn("sim: status callback failed", "url", callback, "status", form.Get("MessageStatus"), "err", err)
		}
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		c.log.Warn("sim: status callback refused", "url", callback, "status", form.Get("MessageStatus"), "http_status", resp.StatusCode)
	}
}

// Lookup lists the simulated texts from `from` to `to` created at or after
// since, newest first, with their current status.
func (c *Carrier) Lookup(ctx context.Context, from, to string, since time.Time) ([]carrier.Found, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	var out []carrier.Found
	for i := len(c.msgs) - 1; i >= 0; i-- { // newest first, ties included
		if f := c.msgs[i]; f.From == from && f.To == to && !f.DateCreated.Before(since) {
			out = append(out, f)
		}
	}
	c.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].DateCreated.After(out[j].DateCreated) })
	return out, nil
}

// Close cancels pending callbacks and waits for their goroutines; Send fails
// with a Retryable error afterwards. It is safe to call more than once.
func (c *Carrier) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// newSID returns "SM" + 32 hex characters, the shape of a Twilio message SID.
func newSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "SM" + hex.EncodeToString(b[:])
}
