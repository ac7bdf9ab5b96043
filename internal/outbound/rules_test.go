package outbound_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store"
)

// clockAt returns a real-speed clock reading local in loc when made.
func clockAt(t *testing.T, zone string, hour, minute int) func() time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	l := now.In(loc)
	target := time.Date(l.Year(), l.Month(), l.Day(), hour, minute, 0, 0, loc)
	shift := target.Sub(now)
	return func() time.Time { return time.Now().Add(shift) }
}

// Proactive texts wait for the recipient's morning; a reply in a live
// conversation does not. Florida's window closes at 20:00.
func TestQuietHours(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true, App: func(o *app.Options) { o.Now = clockAt(t, "America/New_York", 20, 30) }})
	// 20:30 in New York: a New York number may still get a proactive text,
	// a Miami one (Florida, 20:00) may not, a Los Angeles one (17:30) may.
	ny := b.send(t, map[string]any{"brand": "demo-air", "to": "+12125550600", "body": "How was your flight?"})
	fl := b.send(t, map[string]any{"brand": "demo-air", "to": "+13055550601", "body": "How was your flight?"})
	la := b.send(t, map[string]any{"brand": "demo-air", "to": "+13105550602", "body": "How was your flight?"})
	b.waitStatus(t, ny, "sent")
	b.waitStatus(t, la, "sent")
	m := b.waitStatus(t, fl, "held")
	miami, _ := time.LoadLocation("America/New_York")
	if m.HeldUntil == nil || m.HeldUntil.In(miami).Hour() != 8 || m.StatusReason != "quiet_hours" {
		t.Fatalf("Florida text held until %v (%s), want 08:00 local", m.HeldUntil, m.StatusReason)
	}
	code, out := b.api(t, http.MethodGet, fmt.Sprintf("/api/v1/messages/%d", fl), nil)
	if code != 200 || out["data"].(map[string]any)["status"] != "held" || out["data"].(map[string]any)["held_until"] == nil {
		t.Fatalf("GET held message: %v", out)
	}

	// The Florida customer writes in: the conversation is live, a reply goes now.
	b.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(fmt.Sprintf("SM%032d", 601), "+13055550601", "Great, thanks!"))
	reply := b.send(t, map[string]any{"brand": "demo-air", "to": "+13055550601", "body": "Glad to hear it!"})
	b.waitStatus(t, reply, "sent")
	if m := b.message(t, fl); m.Status != "held" {
		t.Fatalf("the proactive text went at night: %s", m.Status)
	}
	// Marketing is held even in a live conversation.
	ctx := context.Background()
	if _, err := b.Store.UpsertContact(ctx, store.ContactUpsert{Phones: []string{"+13055550601"}, Consent: []store.ConsentChange{
		{BrandID: b.Brand.ID, Purpose: "marketing", Status: "opted_in", Source: "web_form", Evidence: "form"}}}); err != nil {
		t.Fatal(err)
	}
	mk := b.send(t, map[string]any{"brand": "demo-air", "to": "+13055550601", "body": "Sale!", "purpose": "marketing"})
	b.waitStatus(t, mk, "held")
}

// Marketing needs an opt-in at send time and stops at the brand's cap of 3 a day.
func TestMarketingConsentAndCap(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	ctx := context.Background()
	noConsent := b.send(t, map[string]any{"brand": "demo-air", "to": "+14155550700", "body": "Sale!", "purpose": "marketing"})
	if m := b.waitStatus(t, noConsent, "suppressed"); m.StatusReason != "no_marketing_consent" {
		t.Errorf("reason %q", m.StatusReason)
	}
	if _, err := b.Store.UpsertContact(ctx, store.ContactUpsert{Phones: []string{"+14155550701"}, Consent: []store.ConsentChange{
		{BrandID: b.Brand.ID, Purpose: "marketing", Status: "opted_in", Source: "web_form", Evidence: "form"}}}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := 0; i < 4; i++ {
		id := b.send(t, map[string]any{"brand": "demo-air", "to": "+14155550701", "body": fmt.Sprintf("Deal %d", i), "purpose": "marketing"})
		b.waitStatus(t, id, "sent", "suppressed")
		ids = append(ids, id)
	}
	for i, id := range ids {
		m := b.message(t, id)
		want := "sent"
		if i == 3 {
			want = "suppressed"
		}
		if m.Status != want || (i == 3 && m.StatusReason != "frequency_cap") {
			t.Errorf("marketing text %d: %s %s, want %s", i+1, m.Status, m.StatusReason, want)
		}
	}
	// A conversational text is not capped.
	cv := b.send(t, map[string]any{"brand": "demo-air", "to": "+14155550701", "body": "Your gate changed"})
	b.waitStatus(t, cv, "sent")
}

// Compliance replies queued by the inbound pipeline go out through the worker,
// including the STOP confirmation to a phone that just opted out.
func TestComplianceRepliesAreSent(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	b.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(fmt.Sprintf("SM%032d", 800), "+14155550800", "HELP"))
	b.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(fmt.Sprintf("SM%032d", 801), "+14155550801", "STOP"))
	apptest.WaitFor(t, 10*time.Second, "two compliance replies at the carrier", func() bool { return b.Twilio.Count() == 2 })
	got := map[string]string{}
	for _, m := range b.Twilio.Sent() {
		got[m.To] = m.Body
	}
	if got["+14155550800"] == "" || got["+14155550801"] == "" {
		t.Fatalf("sent %v", got)
	}
}

// Ten marketing texts to one phone sent at once: exactly the cap of 3 go.
func TestMarketingCapUnderConcurrency(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	ctx := context.Background()
	if _, err := b.Store.UpsertContact(ctx, store.ContactUpsert{Phones: []string{"+14155550900"}, Consent: []store.ConsentChange{
		{BrandID: b.Brand.ID, Purpose: "marketing", Status: "opted_in", Source: "web_form", Evidence: "form"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.BrandAdd(ctx, b.Store, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air", Numbers: []string{apptest.BrandNumber}, MPS: 1000}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := 0; i < 10; i++ {
		ids = append(ids, b.send(t, map[string]any{"brand": "demo-air", "to": "+14155550900", "body": fmt.Sprintf("Offer %d", i), "purpose": "marketing"}))
	}
	b.waitAll(t, ids, "sent", "suppressed")
	if n := b.Twilio.Count(); n != 3 {
		rows, _ := b.Store.Pool.Query(ctx, `SELECT id, status, status_reason, attempts FROM messages WHERE direction = 'outbound' ORDER BY id`)
		var got []string
		for rows.Next() {
			var id, att int64
			var st, why string
			_ = rows.Scan(&id, &st, &why, &att)
			got = append(got, fmt.Sprintf("%d:%s:%s:%d", id, st, why, att))
		}
		rows.Close()
		t.Fatalf("%d marketing texts reached the phone, want exactly the cap of 3: %v", n, got)
	}
}
