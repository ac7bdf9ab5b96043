package sim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/carrier/sim"
	"github.com/parleyhq/parley/internal/carrier/twilio"
)

const token = "0123456789abcdef0123456789abcdef"

type callback struct {
	form  url.Values
	valid bool
}

type bundle struct {
	sim     *sim.Carrier
	srv     *httptest.Server
	mu      sync.Mutex
	got     []callback
	arrived chan struct{}
}

// setup starts a status webhook that verifies signatures the way Parley's
// does (public URL + request URI) and a simulator posting to it.
func setup(t *testing.T, toSent, toDelivered time.Duration) *bundle {
	t.Helper()
	b := &bundle{arrived: make(chan struct{}, 100)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ok := twilio.Valid(token, b.srv.URL+r.URL.RequestURI(), r.PostForm, r.Header.Get("X-Twilio-Signature"))
		b.mu.Lock()
		b.got = append(b.got, callback{form: r.PostForm, valid: ok})
		b.mu.Unlock()
		b.arrived <- struct{}{}
	}))
	t.Cleanup(b.srv.Close)
	b.sim = sim.New(token, b.srv.Client(), sim.WithDelays(toSent, toDelivered))
	t.Cleanup(func() { b.sim.Close() })
	return b
}

func (b *bundle) wait(t *testing.T, n int) []callback {
	t.Helper()
	for range n {
		select {
		case <-b.arrived:
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out waiting for %d callbacks", n)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]callback(nil), b.got...)
}

func TestSendPostsSignedCallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, 10*time.Millisecond, 10*time.Millisecond)
	m := carrier.Outgoing{MessageID: 9, From: "+14155550100", To: "+14155550111", Body: "hi",
		StatusCallback: b.srv.URL + "/webhooks/twilio/status?m=9"}
	sent, err := b.sim.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !strings.HasPrefix(sent.SID, "SM") || len(sent.SID) != 34 || sent.Status != "queued" {
		t.Fatalf("Sent = %+v", sent)
	}
	got := b.wait(t, 2)
	for i, want := range []string{"sent", "delivered"} {
		c := got[i]
		f := c.form
		if !c.valid {
			t.Errorf("callback %d: signature does not verify", i)
		}
		if f.Get("MessageStatus") != want || f.Get("MessageSid") != sent.SID || f.Get("AccountSid") != sim.AccountSID ||
			f.Get("From") != m.From || f.Get("To") != m.To {
			t.Errorf("callback %d = %v, want status %s", i, f, want)
		}
	}
	found, err := b.sim.Lookup(context.Background(), m.From, m.To, time.Now().Add(-time.Minute))
	if err != nil || len(found) != 1 || found[0].SID != sent.SID || found[0].Status != "delivered" || found[0].Body != "hi" {
		t.Fatalf("Lookup = %+v, %v", found, err)
	}
}

func TestSendDoesNotWaitForCallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour, time.Hour)
	start := time.Now()
	for range 100 {
		if _, err := b.sim.Send(context.Background(), carrier.Outgoing{From: "+1", To: "+2", Body: "x", StatusCallback: b.srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("100 sends took %s", d)
	}
	// Close cancels the pending callbacks promptly and none are posted.
	done := make(chan struct{})
	go func() { b.sim.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	b.mu.Lock()
	n := len(b.got)
	b.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d callbacks after Close", n)
	}
	if _, err := b.sim.Send(context.Background(), carrier.Outgoing{From: "+1", To: "+2", Body: "x"}); carrier.KindOf(err) != carrier.Retryable {
		t.Fatalf("Send after Close: %v, want retryable", err)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Hour, time.Hour)
	ctx := context.Background()
	var sids []string
	for _, to := range []string{"+2", "+3", "+2"} {
		s, err := b.sim.Send(ctx, carrier.Outgoing{From: "+1", To: to, Body: "x"})
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, s.SID)
	}
	found, err := b.sim.Lookup(ctx, "+1", "+2", time.Now().Add(-time.Minute))
	if err != nil || len(found) != 2 || found[0].SID != sids[2] || found[1].SID != sids[0] || found[0].Status != "queued" {
		t.Fatalf("Lookup = %+v, %v", found, err)
	}
	if later, _ := b.sim.Lookup(ctx, "+1", "+2", time.Now().Add(time.Minute)); len(later) != 0 {
		t.Fatalf("Lookup since the future = %+v", later)
	}
}
