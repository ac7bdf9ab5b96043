package hooks_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/hooks"
)

// Through the real binary: a STOP texted in is message.received then
// consent.changed, and the status callback of the compliance reply is
// message.status, in that order (one conversation), each signed.
func TestEventsFromTheRealPipeline(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Worker: true})
	ctx := context.Background()
	const phone = "+12125550142"

	// No subscription: a text costs no delivery row.
	if code, body := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM"+randHex(16), phone, "hello")); code != 200 {
		t.Fatalf("inbound: %d %s", code, body)
	}
	if n := env.Count(t, `SELECT count(*) FROM webhook_deliveries`); n != 0 {
		t.Fatalf("%d deliveries without a subscription", n)
	}

	var secret string
	r := newReceiver(t, &secret)
	w, err := env.App.Hooks.Create(ctx, env.Brand.ID, r.srv.URL, []string{hooks.MessageReceived, hooks.ConsentChanged, hooks.MessageStatus})
	if err != nil {
		t.Fatal(err)
	}
	secret = w.Secret
	if code, body := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM"+randHex(16), phone, "STOP")); code != 200 {
		t.Fatalf("inbound: %d %s", code, body)
	}
	var sid string
	apptest.WaitFor(t, 10*time.Second, "the compliance reply sent", func() bool {
		return env.Store.Pool.QueryRow(ctx, `SELECT twilio_sid FROM messages WHERE direction = 'outbound' AND twilio_sid IS NOT NULL`).Scan(&sid) == nil
	})
	form := url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"}, "AccountSid": {apptest.AccountSID}, "To": {phone},
		"From": {apptest.BrandNumber}}
	if code, body := env.PostForm(t, "/webhooks/twilio/status", form); code != 200 && code != 204 {
		t.Fatalf("status callback: %d %s", code, body)
	}
	apptest.WaitFor(t, 15*time.Second, "three events", func() bool { return len(r.all()) >= 3 })
	var types []string
	for _, g := range r.all() {
		if g.verifyErr != nil {
			t.Fatalf("%s: %v", g.typ, g.verifyErr)
		}
		var b struct {
			Type string
			Data map[string]any
		}
		if err := json.Unmarshal(g.body, &b); err != nil {
			t.Fatal(err)
		}
		types = append(types, b.Type)
		switch b.Type {
		case hooks.MessageReceived:
			if b.Data["body"] != "STOP" || b.Data["from"] != phone {
				t.Errorf("message.received %v", b.Data)
			}
		case hooks.MessageStatus:
			if b.Data["status"] != "delivered" {
				t.Errorf("message.status %v", b.Data)
			}
		}
	}
	want := []string{hooks.MessageReceived, hooks.ConsentChanged, hooks.MessageStatus}
	if len(types) != 3 || types[0] != want[0] || types[1] != want[1] || types[2] != want[2] {
		t.Fatalf("events %v, want %v", types, want)
	}
}
