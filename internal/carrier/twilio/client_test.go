package twilio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	brand     = "+14155550100"
	customer  = "+14155550111"
)

type bundle struct {
	fake   *twiliotest.Fake
	client *Client
}

func setup(t *testing.T, timeout time.Duration) bundle {
	t.Helper()
	fake := twiliotest.New(t, testSID, testToken)
	c, err := New(testSID, testToken, fake.URL(), timeout)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return bundle{fake: fake, client: c}
}

func text(to string) carrier.Outgoing {
	return carrier.Outgoing{MessageID: 7, From: brand, To: to, Body: "Your table is ready"}
}

func TestSendSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t, 5*time.Second)
	m := carrier.Outgoing{
		MessageID: 42, From: brand, To: customer, Body: "Boarding at gate 12 ✈️",
		MediaURLs:      []string{"https://example.com/a.png", "https://example.com/b.png"},
		StatusCallback: "https://parley.example/webhooks/twilio/status?m=42",
		ValidityPeriod: 2 * time.Hour,
	}
	sent, err := b.client.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !strings.HasPrefix(sent.SID, "SM") || len(sent.SID) != 34 || sent.Status != "queued" {
		t.Fatalf("Sent = %+v", sent)
	}
	got := b.fake.Sent()
	if len(got) != 1 {
		t.Fatalf("fake saw %d messages, want 1", len(got))
	}
	g := got[0]
	if g.SID != sent.SID || g.From != m.From || g.To != m.To || g.Body != m.Body || g.StatusCallback != m.StatusCallback ||
		strings.Join(g.MediaURLs, " ") != strings.Join(m.MediaURLs, " ") || g.ValidityPeriod != 7200 {
		t.Fatalf("fake saw %+v, sent %+v", g, m)
	}
}

func TestSendValidityPeriodClamped(t *testing.T) {
	t.Parallel()
	b := setup(t, 5*time.Second)
	m := text(customer)
	m.ValidityPeriod = 48 * time.Hour
	if _, err := b.client.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m.ValidityPeriod = 0
	if _, err := b.client.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := b.fake.Sent()
	if got[0].ValidityPeriod != 36000 || got[1].ValidityPeriod != 0 {
		t.Fatalf("validity periods = %d, %d; want 36000, 0 (not sent)", got[0].ValidityPeriod, got[1].ValidityPeriod)
	}
}

func TestSendErrorKinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		status, code int
		want         carrier.Kind
	}{
		{"opted out", 400, 21610, carrier.OptedOut},
		{"invalid number", 400, 21211, carrier.BadNumber},
		{"not mobile", 400, 21614, carrier.BadNumber},
		{"queue overflow", 400, 21611, carrier.Retryable},
		{"too many requests", 429, 20429, carrier.RateLimited},
		{"http 429 without code", 429, 0, carrier.RateLimited},
		{"code 20429 on a 400", 400, 20429, carrier.RateLimited},
		{"server error", 500, 20500, carrier.Ambiguous},
		{"bad gateway", 502, 0, carrier.Ambiguous},
		{"unavailable", 503, 0, carrier.Ambiguous},
		{"gateway timeout", 504, 0, carrier.Ambiguous},
		{"unregistered sender", 400, 30034, carrier.Permanent},
		{"forbidden", 403, 20003, carrier.Permanent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 5*time.Second)
			b.fake.FailNext(1, tc.status, tc.code, "refused by test")
			_, err := b.client.Send(context.Background(), text(customer))
			var ce *carrier.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *carrier.Error", err)
			}
			if ce.Kind != tc.want || ce.Code != tc.code || ce.HTTPStatus != tc.status || ce.Message != "refused by test" {
				t.Fatalf("got kind %s code %d status %d msg %q; want %s %d %d", ce.Kind, ce.Code, ce.HTTPStatus, ce.Message, tc.want, tc.code, tc.status)
			}
			if b.fake.Count() != 0 {
				t.Fatalf("a refused create was stored")
			}
			// The next create goes through: FailNext(1) affects one request.
			if _, err := b.client.Send(context.Background(), text(customer)); err != nil {
				t.Fatalf("second Send: %v", err)
			}
		})
	}
}

// Twilio's own parameter check (21602 on an empty body) comes back Permanent.
func TestSendMissingBodyIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, 5*time.Second)
	m := text(customer)
	m.Body = ""
	_, err := b.client.Send(context.Background(), m)
	var ce *carrier.Error
	if !errors.As(err, &ce) || ce.Kind != carrier.Permanent || ce.Code != CodeBodyRequired || ce.HTTPStatus != 400 {
		t.Fatalf("err = %#v, want Permanent 21602/400", err)
	}
}

func TestSendRulePerRecipient(t *testing.T) {
	t.Parallel()
	b := setup(t, 5*time.Second)
	const stopped = "+14155550199"
	b.fake.SetRule(func(r twiliotest.CreateRequest) *twiliotest.ErrorResponse {
		if r.To == stopped {
			return &twiliotest.ErrorResponse{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
		}
		return nil
	})
	if _, err := b.client.Send(context.Background(), text(stopped)); carrier.KindOf(err) != carrier.OptedOut {
		t.Fatalf("to %s: err = %v, want opted_out", stopped, err)
	}
	if _, err := b.client.Send(context.Background(), text(customer)); err != nil {
		t.Fatalf("to %s: %v", customer, err)
	}
}

func TestSendWrongCredentialsIsPermanent(t *testing.T) {
	t.Parallel()
	fake := twiliotest.New(t, testSID, testToken)
	c, err := New(testSID, "ffffffffffffffffffffffffffffffff", fake.URL(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), text(customer))
	var ce *carrier.Error
	if !errors.As(err, &ce) || ce.Kind != carrier.Permanent || ce.HTTPStatus != 401 || ce.Code != 20003 {
		t.Fatalf("err = %v, want Permanent 401/20003", err)
	}
}

// A proxy's HTML 502 still classifies by its HTTP status instead of failing
// as an undecodable body.
func TestSendNonJSONErrorKeepsStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
	}))
	t.Cleanup(srv.Close)
	c, err := New(testSID, testToken, srv.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), text(customer))
	var ce *carrier.Error
	if !errors.As(err, &ce) || ce.Kind != carrier.Ambiguous || ce.HTTPStatus != 502 || !strings.Contains(ce.Message, "Bad Gateway") {
		t.Fatalf("err = %#v, want Ambiguous 502", err)
	}
}

func TestSendTimeoutAfterRequestIsAmbiguous(t *testing.T) {
	t.Parallel()
	b := setup(t, 200*time.Millisecond)
	b.fake.Hang(10 * time.Second)
	start := time.Now()
	_, err := b.client.Send(context.Background(), text(customer))
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Send took %s with a 200ms timeout", took)
	}
	var ce *carrier.Error
	if !errors.As(err, &ce) || ce.Kind != carrier.Ambiguous {
		t.Fatalf("err = %v, want ambiguous", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a net.Error with Timeout()", err)
	}
	// The text did reach "Twilio": Lookup must find it.
	found, err := b.client.Lookup(context.Background(), brand, customer, start.Add(-time.Minute))
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if len(found) != 1 || found[0].SID != b.fake.Sent()[0].SID {
		t.Fatalf("Lookup = %+v, want the hung message", found)
	}
}

func TestSendCancelledInFlightIsAmbiguous(t *testing.T) {
	t.Parallel()
	b := setup(t, 10*time.Second)
	b.fake.Hang(10 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := b.client.Send(ctx, text(customer))
	if carrier.KindOf(err) != carrier.Ambiguous || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ambiguous wrapping context.Canceled", err)
	}
}

func TestSendCancelledBeforeIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.client.Send(ctx, text(customer))
	if carrier.KindOf(err) != carrier.Retryable {
		t.Fatalf("err = %v, want retryable", err)
	}
	if n := b.fake.Attempts(); n != 0 {
		t.Fatalf("fake saw %d attempts, want 0", n)
	}
}

func TestSendConnectionRefusedIsRetryable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(testSID, testToken, "http://"+addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), text(customer))
	if carrier.KindOf(err) != carrier.Retryable {
		t.Fatalf("err = %v, want retryable", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("err = %v, want a dial *net.OpError inside", err)
	}
}

// The server read the whole request, then dropped the connection without an
// answer: Twilio may have created the message.
func TestSendConnectionDroppedAfterRequestIsAmbiguous(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(testSID, testToken, srv.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), text(customer))
	if carrier.KindOf(err) != carrier.Ambiguous {
		t.Fatalf("err = %v, want ambiguous", err)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	b := setup(t, 5*time.Second)
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	var sids []string
	for _, to := range []string{customer, "+14155550122", customer} {
		s, err := b.client.Send(ctx, text(to))
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, s.SID)
	}
	b.fake.SetStatus(sids[0], "undelivered", 30003)

	found, err := b.client.Lookup(ctx, brand, customer, before)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if len(found) != 2 || found[0].SID != sids[2] || found[1].SID != sids[0] {
		t.Fatalf("Lookup = %+v, want [%s %s]", found, sids[2], sids[0])
	}
	f := found[1]
	if f.Status != "undelivered" || f.ErrorCode != 30003 || f.From != brand || f.To != customer ||
		f.Body != "Your table is ready" || f.DateCreated.Before(before.Truncate(time.Second)) || time.Since(f.DateCreated) > time.Minute {
		t.Fatalf("found %+v", f)
	}
	if found[0].Status != "queued" || found[0].ErrorCode != 0 {
		t.Fatalf("found %+v", found[0])
	}

	later, err := b.client.Lookup(ctx, brand, customer, time.Now().Add(time.Hour))
	if err != nil || len(later) != 0 {
		t.Fatalf("Lookup since the future = %+v, %v; want nothing", later, err)
	}
	none, err := b.client.Lookup(ctx, customer, brand, before)
	if err != nil || len(none) != 0 {
		t.Fatalf("Lookup reversed pair = %+v, %v; want nothing", none, err)
	}
}

// Lookup follows next_page_uri, which twilio-go resolves against
// api.twilio.com: the rewriting transport must carry it to the fake too.
// More messages in the window than it reads: it returns those with
// ErrIncomplete, since the one looked for may be among the rest.
func TestLookupPages(t *testing.T) {
	t.Parallel()
	b := setup(t, 5*time.Second)
	ctx := context.Background()
	for range lookupLimit + 5 {
		if _, err := b.client.Send(ctx, text(customer)); err != nil {
			t.Fatal(err)
		}
	}
	found, err := b.client.Lookup(ctx, brand, customer, time.Now().Add(-time.Minute))
	if !errors.Is(err, carrier.ErrIncomplete) {
		t.Fatalf("Lookup: err %v, want ErrIncomplete", err)
	}
	if len(found) != lookupLimit {
		t.Fatalf("Lookup found %d, want the newest %d", len(found), lookupLimit)
	}
	if sent := b.fake.Sent(); found[0].SID != sent[len(sent)-1].SID {
		t.Fatalf("first found %s, want newest %s", found[0].SID, sent[len(sent)-1].SID)
	}
	// A full page is never proof of absence, even when its dates are all
	// older than the window: the list's order is not the creation order.
	if found, err := b.client.Lookup(ctx, brand, customer, time.Now().Add(time.Hour)); !errors.Is(err, carrier.ErrIncomplete) || len(found) != 0 {
		t.Fatalf("Lookup past every message on a full page: %d found, err %v; want none and ErrIncomplete", len(found), err)
	}
}

func TestLookupErrorIsPlain(t *testing.T) {
	t.Parallel()
	fake := twiliotest.New(t, testSID, testToken)
	c, err := New(testSID, "ffffffffffffffffffffffffffffffff", fake.URL(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Lookup(context.Background(), brand, customer, time.Now())
	if err == nil || carrier.KindOf(err) != 0 {
		t.Fatalf("err = %v, want a plain error", err)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sid, token, url string
		timeout         time.Duration
	}{
		{"", testToken, "", time.Second},
		{"AC-1", testToken, "", time.Second},
		{testSID, "tok en", "", time.Second},
		{testSID, testToken, "localhost:8080", time.Second},
		{testSID, testToken, "ftp://example.com", time.Second},
		{testSID, testToken, "", 0},
	} {
		if _, err := New(tc.sid, tc.token, tc.url, tc.timeout); err == nil {
			t.Errorf("New(%q, %q, %q, %s) accepted", tc.sid, tc.token, tc.url, tc.timeout)
		}
	}
	if _, err := New(testSID, testToken, "", time.Second); err != nil {
		t.Errorf("New without API URL: %v", err)
	}
}

// An API URL with a path mounts twilio-go's paths under it.
func TestAPIURLPathPrefix(t *testing.T) {
	t.Parallel()
	fake := twiliotest.New(t, testSID, testToken)
	proxy := httptest.NewServer(http.StripPrefix("/twilio", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Scheme, r.URL.Host, r.RequestURI = "http", strings.TrimPrefix(fake.URL(), "http://"), ""
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})))
	t.Cleanup(proxy.Close)
	c, err := New(testSID, testToken, proxy.URL+"/twilio/", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), text(customer)); err != nil {
		t.Fatalf("Send through /twilio prefix: %v", err)
	}
	if fake.Count() != 1 {
		t.Fatalf("fake count = %d", fake.Count())
	}
}
