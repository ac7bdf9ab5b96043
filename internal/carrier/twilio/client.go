package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	twilioapi "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/parleyhq/parley/internal/carrier"
)

// Twilio error codes Parley acts on (https://www.twilio.com/docs/api/errors).
// Named so the classification below reads as policy, not magic numbers.
const (
	// CodeBodyRequired: neither Body nor MediaUrl was given.
	CodeBodyRequired = 21602
	// CodeInvalidTo: the To number is not a valid phone number.
	CodeInvalidTo = 21211
	// CodeOptedOut: the recipient replied STOP to this sender.
	CodeOptedOut = 21610
	// CodeQueueOverflow: the sender's queue at Twilio is full; retry later.
	CodeQueueOverflow = 21611
	// CodeNotMobile: the To number cannot receive SMS (landline, etc.).
	CodeNotMobile = 21614
	// CodeTooManyRequests: too many concurrent requests; never processed.
	CodeTooManyRequests = 20429
)

// maxValidity is Twilio's ceiling for ValidityPeriod (10 hours).
const maxValidity = 36000 * time.Second

// lookupLimit caps how many messages of one sender/recipient pair Lookup
// reads. Resolving an ambiguous send only needs the last few minutes.
const lookupLimit = 200

// alnum is what twilio-go accepts for the account SID and auth token; anything
// else fails locally with 21222/21224 on every request, so New refuses it.
var alnum = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// Client sends texts through Twilio's Messages API with twilio-go. It is the
// production carrier.Carrier; build one per account with New and share it.
type Client struct {
	accountSID string
	creds      *twclient.Credentials
	transport  *transport
	// rest is built the documented way (NewRestClientWithParams) and carries
	// the edge/region twilio-go reads from TWILIO_EDGE / TWILIO_REGION; each
	// call borrows them for its own request handler (see api).
	rest *twilioapi.RestClient
}

var _ carrier.Carrier = (*Client)(nil)

// New returns a Client for one Twilio account. apiURL, when not empty
// (TWILIO_API_URL), sends every request there instead of Twilio (a fake or a
// proxy): twilio-go hard-codes its hosts, so the transport rewrites scheme and
// host (and prefixes any path of apiURL). timeout bounds each HTTP request from
// dial to the last byte of the response; keep it below the task timeout.
func New(accountSID, authToken, apiURL string, timeout time.Duration) (*Client, error) {
	if !alnum.MatchString(accountSID) {
		return nil, errors.New("twilio: account SID must be non-empty letters and digits")
	}
	if !alnum.MatchString(authToken) {
		return nil, errors.New("twilio: auth token must be non-empty letters and digits")
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("twilio: timeout must be positive, got %s", timeout)
	}
	var target *url.URL
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("twilio: API URL %q must be an absolute http(s) URL", apiURL)
		}
		target = u
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	// Sending thousands of texts a second to one host: keep enough idle
	// connections or every request pays a new TCP (and TLS) handshake.
	base.MaxIdleConns = 256
	base.MaxIdleConnsPerHost = 128
	tr := &transport{base: base, target: target, timeout: timeout}

	c := &Client{accountSID: accountSID, creds: twclient.NewCredentials(accountSID, authToken), transport: tr}
	tc := &twclient.Client{Credentials: c.creds, HTTPClient: tr.httpClient(context.Background())}
	tc.SetAccountSid(accountSID)
	c.rest = twilioapi.NewRestClientWithParams(twilioapi.ClientParams{Client: tc})
	return c, nil
}

// api returns a Messages API bound to ctx. twilio-go takes no context, so
// each call gets its own small client whose transport carries ctx: cancelling
// ctx aborts the request and the error still says whether it left.
func (c *Client) api(ctx context.Context) *openapi.ApiService {
	tc := &twclient.Client{Credentials: c.creds, HTTPClient: c.transport.httpClient(ctx)}
	tc.SetAccountSid(c.accountSID)
	return openapi.NewApiService(&twclient.RequestHandler{
		Client: tc, Edge: c.rest.Edge, Region: c.rest.Region,
	})
}

// Send creates one message at Twilio. Errors are *carrier.Error: a request
// that never left or that Twilio refused unprocessed (429/20429, 21611) is
// Retryable or RateLimited; one that may have reached Twilio (a 5xx, no
// answer after the request was written) is Ambiguous.
func (c *Client) Send(ctx context.Context, m carrier.Outgoing) (carrier.Sent, error) {
	if m.To == "" || m.From == "" {
		return carrier.Sent{}, &carrier.Error{Kind: carrier.Permanent, Message: "twilio: From and To are required"}
	}
	if err := ctx.Err(); err != nil {
		return carrier.Sent{}, &carrier.Error{Kind: carrier.Retryable, Message: "not sent", Err: err}
	}
	p := &openapi.CreateMessageParams{}
	p.SetFrom(m.From).SetTo(m.To).SetBody(m.Body)
	if len(m.MediaURLs) > 0 {
		p.SetMediaUrl(m.MediaURLs)
	}
	if m.StatusCallback != "" {
		p.SetStatusCallback(m.StatusCallback)
	}
	if m.ValidityPeriod > 0 {
		vp := min(m.ValidityPeriod, maxValidity)
		p.SetValidityPeriod(max(1, int(vp/time.Second)))
	}
	msg, err := c.api(ctx).CreateMessage(p)
	if err != nil {
		return carrier.Sent{}, classify(err)
	}
	if msg == nil || msg.Sid == nil || *msg.Sid == "" {
		// A 2xx without a SID: Twilio probably accepted it, we cannot tell.
		return carrier.Sent{}, &carrier.Error{Kind: carrier.Ambiguous, Message: "twilio answered without a message SID"}
	}
	s := carrier.Sent{SID: *msg.Sid, Status: "queued"}
	if msg.Status != nil && *msg.Status != "" {
		s.Status = *msg.Status
	}
	return s, nil
}

// classify maps a twilio-go error to the carrier kind the outbound engine acts on.
func classify(err error) *carrier.Error {
	var re *twclient.TwilioRestError
	if errors.As(err, &re) {
		return classifyREST(re.Status, re.Code, re.Message, err)
	}
	var re1 *twclient.RestErrorV1
	if errors.As(err, &re1) {
		return classifyREST(re1.HttpStatusCode, re1.Code, re1.Message, err)
	}
	var te *transportError
	if errors.As(err, &te) {
		if te.wrote {
			return &carrier.Error{Kind: carrier.Ambiguous, Message: "request sent, outcome unknown", Err: err}
		}
		return &carrier.Error{Kind: carrier.Retryable, Message: "request not sent", Err: err}
	}
	// Anything else (an undecodable 2xx body, a timeout reported by
	// http.Client itself) happened after the request may have left: never
	// claim it is safe to resend.
	return &carrier.Error{Kind: carrier.Ambiguous, Message: "outcome unknown", Err: err}
}

func classifyREST(status, code int, msg string, err error) *carrier.Error {
	e := &carrier.Error{Code: code, HTTPStatus: status, Message: msg, Err: err}
	switch {
	case status == http.StatusTooManyRequests || code == CodeTooManyRequests:
		e.Kind = carrier.RateLimited
	case code == CodeQueueOverflow:
		e.Kind = carrier.Retryable
	case code == CodeOptedOut:
		e.Kind = carrier.OptedOut
	case code == CodeInvalidTo || code == CodeNotMobile:
		e.Kind = carrier.BadNumber
	case status >= 500:
		// A 5xx (500, 502, 503, 504…) comes after the request reached
		// Twilio, or a proxy in front of it, which may have passed it on: the
		// message may exist. Only a lookup can tell; a blind resend could
		// send it twice.
		e.Kind = carrier.Ambiguous
	default:
		e.Kind = carrier.Permanent
	}
	return e
}

// Lookup lists messages Twilio has from `from` to `to` created at or after
// since, newest first, to resolve an ambiguous send. When the pair has more
// messages in that window than it reads, it returns those it read with an
// error wrapping carrier.ErrIncomplete.
//
// It deliberately does not filter on DateSent at Twilio: a message still
// queued there has no date_sent and would be missed, and "not found" must
// not be read as "not sent" when the text is only waiting in Twilio's queue.
// It reads the newest lookupLimit messages of the pair and filters on
// date_created here (second precision, as Twilio stores it).
func (c *Client) Lookup(ctx context.Context, from, to string, since time.Time) ([]carrier.Found, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("twilio: lookup: %w", err)
	}
	p := &openapi.ListMessageParams{}
	p.SetFrom(from).SetTo(to).SetPageSize(lookupLimit).SetLimit(lookupLimit)
	msgs, err := c.api(ctx).ListMessage(p)
	if err != nil {
		return nil, fmt.Errorf("twilio: lookup %s → %s: %w", from, to, err)
	}
	since = since.Truncate(time.Second)
	// "Not among these" proves something only when these are every message
	// of the pair: a full page may have left the one we look for behind it,
	// whatever the dates on it say (the list is ordered by the date sent, and
	// where texts Twilio has not sent yet stand in it is not documented).
	complete := len(msgs) < lookupLimit
	out := make([]carrier.Found, 0, len(msgs))
	for _, m := range msgs {
		f := carrier.Found{
			SID: deref(m.Sid), Status: deref(m.Status), From: deref(m.From), To: deref(m.To), Body: deref(m.Body),
			DateCreated: parseDate(deref(m.DateCreated)),
		}
		if m.ErrorCode != nil {
			f.ErrorCode = *m.ErrorCode
		}
		// An unparseable date keeps the message: a candidate too many is
		// harmless, one too few can double-send.
		if !f.DateCreated.IsZero() && f.DateCreated.Before(since) {
			continue
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DateCreated.After(out[j].DateCreated) })
	if !complete {
		return out, fmt.Errorf("twilio: lookup %s → %s: %d messages since %s and maybe more: %w",
			from, to, len(out), since.UTC().Format(time.RFC3339), carrier.ErrIncomplete)
	}
	return out, nil
}

// parseDate reads Twilio's RFC 2822 dates ("Wed, 18 Aug 2010 20:01:40 +0000").
func parseDate(s string) time.Time {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// backstop is how much longer than the transport's own deadline http.Client
// waits. When http.Client's timer fires first it replaces the error with a
// bare string, losing whether the request was written; so the transport's
// deadline must always win.
const backstop = 2 * time.Second

// maxResponse caps how much of a response the transport buffers.
const maxResponse = 16 << 20

// transport sends twilio-go's requests: it rewrites the host when an API URL
// is configured, enforces the per-request deadline, records whether the
// request was fully written (so a failure can be told apart as "never left"
// or "may have reached Twilio"), reads the whole response before returning
// (the deadline covers the body, and a connection lost mid-body is reported
// here, not as a JSON error inside twilio-go), and gives error responses a
// JSON body twilio-go can decode.
type transport struct {
	base    http.RoundTripper
	target  *url.URL // nil: leave requests addressed to Twilio
	timeout time.Duration
}

func (t *transport) httpClient(ctx context.Context) *http.Client {
	return &http.Client{
		Transport: boundTransport{t: t, ctx: ctx},
		// As twilio-go's default client: return a redirect, never follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       t.timeout + backstop,
	}
}

// boundTransport carries one call's context into a twilio-go request, which
// twilio-go itself builds with context.Background().
type boundTransport struct {
	t   *transport
	ctx context.Context
}

func (b boundTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return b.t.roundTrip(b.ctx, req)
}

func (t *transport) roundTrip(callCtx context.Context, req *http.Request) (*http.Response, error) {
	if err := callCtx.Err(); err != nil {
		closeBody(req)
		return nil, &transportError{err: fmt.Errorf("call cancelled: %w", err)}
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	defer cancel()
	stop := context.AfterFunc(callCtx, cancel)
	defer stop()

	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		// A write that failed part-way left an incomplete request Twilio
		// cannot act on; only a complete one may have taken effect.
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	r := req.Clone(httptrace.WithClientTrace(ctx, trace))
	if t.target != nil {
		r.URL.Scheme, r.URL.Host, r.Host = t.target.Scheme, t.target.Host, ""
		if prefix := strings.TrimSuffix(t.target.Path, "/"); prefix != "" {
			r.URL.Path, r.URL.RawPath = prefix+r.URL.Path, ""
		}
	}

	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, t.fail(callCtx, ctx, wrote.Load(), err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	_ = resp.Body.Close()
	if err != nil {
		// Twilio answered, so it received the request.
		return nil, t.fail(callCtx, ctx, true, fmt.Errorf("reading the response: %w", err))
	}
	if resp.StatusCode >= 400 {
		body = errorBody(resp.StatusCode, body)
		resp.Header.Set("Content-Type", "application/json")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Request = req
	return resp, nil
}

func (t *transport) fail(callCtx, reqCtx context.Context, wrote bool, err error) error {
	te := &transportError{wrote: wrote, err: err}
	switch {
	case callCtx.Err() != nil:
		te.err = fmt.Errorf("call cancelled: %w (%w)", callCtx.Err(), err)
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		te.timeout = true
		te.err = fmt.Errorf("no response within %s: %w", t.timeout, err)
	}
	return te
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// transportError is a request that got no HTTP answer. wrote tells whether
// the full request had been written when it failed: if not, Twilio cannot
// have acted on it.
type transportError struct {
	wrote   bool
	timeout bool
	err     error
}

func (e *transportError) Error() string {
	if e.wrote {
		return "twilio: request sent, no answer: " + e.err.Error()
	}
	return "twilio: request not sent: " + e.err.Error()
}

func (e *transportError) Unwrap() error { return e.err }

// Timeout lets url.Error.Timeout and net.Error checks see our deadline.
func (e *transportError) Timeout() bool { return e.timeout }

// errorBody returns an error response body in the shape twilio-go decodes
// into *client.TwilioRestError, with the real HTTP status. A proxy's HTML 502
// or an empty 503 would otherwise reach us as an opaque decoding error with
// the status lost.
func errorBody(status int, body []byte) []byte {
	out := map[string]any{"status": status}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil && m != nil {
		if c, ok := m["code"].(float64); ok {
			out["code"] = c
		}
		for _, k := range []string{"message", "more_info"} {
			if s, ok := m[k].(string); ok {
				out[k] = s
			}
		}
		if d, ok := m["details"].(map[string]any); ok {
			out["details"] = d
		}
	}
	if _, ok := out["message"]; !ok {
		msg := string(body)
		if len(msg) > 200 {
			msg = msg[:200]
		}
		msg = strings.TrimSpace(strings.ToValidUTF8(msg, ""))
		if msg == "" {
			msg = http.StatusText(status)
		}
		out["message"] = msg
	}
	b, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return b
}
