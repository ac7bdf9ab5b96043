package outbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
	"github.com/parleyhq/parley/internal/store"
)

type bundle struct {
	*apptest.Env
	key string
}

func setup(t *testing.T, opt apptest.Options) *bundle {
	t.Helper()
	t.Parallel()
	if testing.Verbose() {
		opt.LogTo = testWriter{t}
	}
	env := apptest.New(t, opt)
	key, err := app.APIKeyAdd(context.Background(), env.Store, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{Env: env, key: key}
}

// api sends a JSON request with the key and decodes the answer.
func (b *bundle) api(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, b.PublicURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (b *bundle) send(t *testing.T, body map[string]any) int64 {
	t.Helper()
	code, out := b.api(t, http.MethodPost, "/api/v1/messages", body)
	if code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/messages %v: %d %v", body, code, out)
	}
	return int64(out["data"].(map[string]any)["id"].(float64))
}

func (b *bundle) message(t *testing.T, id int64) store.Message {
	t.Helper()
	m, err := b.Store.MessageByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (b *bundle) waitStatus(t *testing.T, id int64, want ...string) store.Message {
	t.Helper()
	var m store.Message
	apptest.WaitFor(t, 15*time.Second, fmt.Sprintf("message %d to reach %v", id, want), func() bool {
		m = b.message(t, id)
		for _, w := range want {
			if m.Status == w {
				return true
			}
		}
		return false
	})
	return m
}

func TestSendThroughTwilio(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	code, out := b.api(t, http.MethodPost, "/api/v1/messages", map[string]any{
		"brand": "demo-air", "to": "(212) 555-0142", "body": "Your flight DA 12 boards at gate B7 ✈️",
		"media_urls": []string{"https://demo-air.example/boarding.png"},
	})
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, out)
	}
	d := out["data"].(map[string]any)
	if d["status"] != "queued" || d["encoding"] != "UCS-2" || d["segments"].(float64) != 1 {
		t.Fatalf("answer %v", d)
	}
	id := int64(d["id"].(float64))
	m := b.waitStatus(t, id, "sent")
	sent := b.Twilio.Sent()
	if len(sent) != 1 {
		t.Fatalf("fake saw %d creates, want 1", len(sent))
	}
	s := sent[0]
	if s.To != "+12125550142" || s.From != apptest.BrandNumber || s.Body != "Your flight DA 12 boards at gate B7 ✈️" ||
		len(s.MediaURLs) != 1 || s.StatusCallback != fmt.Sprintf("%s/webhooks/twilio/status?m=%d", b.PublicURL, id) {
		t.Fatalf("create %+v", s)
	}
	if m.TwilioSID != s.SID || m.ConversationID == 0 {
		t.Fatalf("stored %+v", m)
	}
	code, out = b.api(t, http.MethodGet, fmt.Sprintf("/api/v1/messages/%d", id), nil)
	if code != 200 || out["data"].(map[string]any)["twilio_sid"] != s.SID || out["data"].(map[string]any)["status"] != "sent" {
		t.Fatalf("GET message: %d %v", code, out)
	}
}

func TestSendBadInput(t *testing.T) {
	b := setup(t, apptest.Options{})
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		body     map[string]any
		code     int
		errCode  string
		errField string
	}{
		{map[string]any{"brand": "demo-air", "to": "12", "body": "hi"}, 400, "invalid_phone", "to"},
		{map[string]any{"brand": "demo-air", "to": "+12125550100", "body": ""}, 400, "missing_field", "body"},
		{map[string]any{"brand": "demo-air", "to": "+12125550100", "body": strings.Repeat("a", 1601)}, 400, "invalid_field", "body"},
		{map[string]any{"brand": "nope", "to": "+12125550100", "body": "hi"}, 404, "brand_not_found", "brand"},
		{map[string]any{"brand": "demo-air", "to": "+12125550100", "body": "hi", "send_at": past}, 400, "invalid_field", "send_at"},
		{map[string]any{"brand": "demo-air", "to": "+12125550100", "body": "hi", "purpose": "spam"}, 400, "invalid_field", "purpose"},
		{map[string]any{"brand": "demo-air", "body": "hi"}, 400, "missing_field", "to"},
		{map[string]any{"brand": "demo-air", "to": "+12125550100", "loyalty_id": "X", "body": "hi"}, 400, "invalid_field", "to"},
		{map[string]any{"brand": "demo-air", "loyalty_id": "NOBODY", "body": "hi"}, 404, "contact_not_found", ""},
		{map[string]any{"to": "+12125550100", "body": "hi"}, 400, "missing_field", "brand"},
		{map[string]any{"brand": "demo-air", "to": "+12125550100", "body": "hi", "media_urls": []string{"ftp://x"}}, 400, "invalid_field", "media_urls[0]"},
		{map[string]any{"brand": "demo-air", "to": "+12125550100", "body": "hi", "colour": "red"}, 400, "", ""},
	}
	for _, tt := range tests {
		code, out := b.api(t, http.MethodPost, "/api/v1/messages", tt.body)
		e, _ := out["error"].(map[string]any)
		if code != tt.code || e == nil || (tt.errCode != "" && e["code"] != tt.errCode) || (tt.errField != "" && e["field"] != tt.errField) {
			t.Errorf("%v: %d %v, want %d %s/%s", tt.body, code, out, tt.code, tt.errCode, tt.errField)
		}
	}
	if n := b.Count(t, `SELECT count(*) FROM messages`) + b.Count(t, `SELECT count(*) FROM contacts`); n != 0 {
		t.Fatalf("bad input stored %d rows", n)
	}
	if code, out := b.api(t, http.MethodGet, "/api/v1/messages/999", nil); code != 404 || out["error"].(map[string]any)["code"] != "message_not_found" {
		t.Fatalf("unknown message: %d %v", code, out)
	}
}

// Each class of carrier error leads to the right end state.
func TestCarrierErrors(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	rules := map[string]*twiliotest.ErrorResponse{
		"+13125550001": {Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"},
		"+13125550002": {Status: 400, Code: 21211, Message: "Invalid 'To' Phone Number"},
		"+13125550003": {Status: 400, Code: 21614, Message: "'To' number is not a valid mobile number"},
		"+13125550004": {Status: 400, Code: 30034, Message: "Message from an unregistered number"},
	}
	b.Twilio.SetRule(func(r twiliotest.CreateRequest) *twiliotest.ErrorResponse { return rules[r.To] })
	ids := map[string]int64{}
	for to := range rules {
		ids[to] = b.send(t, map[string]any{"brand": "demo-air", "to": to, "body": "hello"})
	}
	m := b.waitStatus(t, ids["+13125550001"], "suppressed")
	if m.ErrorCode != 21610 || m.StatusReason != "opted_out_at_carrier" {
		t.Errorf("21610: %+v", m)
	}
	if n := b.Count(t, `SELECT count(*) FROM consent_events WHERE phone = '+13125550001' AND source = 'carrier' AND status = 'opted_out'`); n != 2 {
		t.Errorf("21610 recorded %d carrier opt-outs, want 2 (both purposes)", n)
	}
	for _, to := range []string{"+13125550002", "+13125550003"} {
		m := b.waitStatus(t, ids[to], "failed")
		if m.StatusReason != "undeliverable_phone" || m.ErrorCode != rules[to].Code {
			t.Errorf("%s: %+v", to, m)
		}
		if n := b.Count(t, `SELECT count(*) FROM contact_phones WHERE phone = $1 AND undeliverable`, to); n != 1 {
			t.Errorf("%s not marked undeliverable", to)
		}
	}
	m = b.waitStatus(t, ids["+13125550004"], "failed")
	if m.ErrorCode != 30034 || m.StatusReason != "carrier_rejected" {
		t.Errorf("permanent: %+v", m)
	}
	// A second text to the undeliverable phone is suppressed before the carrier.
	before := b.Twilio.Attempts()
	id := b.send(t, map[string]any{"brand": "demo-air", "to": "+13125550002", "body": "again"})
	if m := b.waitStatus(t, id, "suppressed"); m.StatusReason != "undeliverable_phone" {
		t.Errorf("second text to a bad number: %+v", m)
	}
	if b.Twilio.Attempts() != before {
		t.Error("the carrier was called for a phone known to be undeliverable")
	}
	// The phone texts in: it can receive texts after all.
	b.Twilio.SetRule(nil)
	b.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(fmt.Sprintf("SM%032d", 9002), "+13125550002", "it's me, my phone works"))
	id = b.send(t, map[string]any{"brand": "demo-air", "to": "+13125550002", "body": "welcome back"})
	b.waitStatus(t, id, "sent")
}

// 21611 and 429 storms are retried until the text goes, once.
func TestRetryableErrorsRetry(t *testing.T) {
	b := setup(t, apptest.Options{Worker: true})
	b.Twilio.FailNext(4, 429, 20429, "Too Many Requests")
	id2 := b.send(t, map[string]any{"brand": "demo-air", "to": "+13125550011", "body": "storm"})
	b.waitStatus(t, id2, "sent")
	b.Twilio.FailNext(1, 400, 21611, "This 'From' number has exceeded the maximum number of queued messages")
	id3 := b.send(t, map[string]any{"brand": "demo-air", "to": "+13125550012", "body": "overflow"})
	b.waitStatus(t, id3, "sent")
	if got := b.Twilio.Count(); got != 2 {
		t.Fatalf("%d texts reached the carrier, want 2 (each once)", got)
	}
	if n := b.Count(t, `SELECT attempts FROM messages WHERE id = $1`, id2); n != 5 {
		t.Errorf("storm message took %d attempts, want 5", n)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// A number written without a country is a number of the brand's default
// country: a British brand texts "07911 123456" as +447911123456, and an
// American brand refuses it, naming the field.
func TestSendReadsToInBrandCountry(t *testing.T) {
	b := setup(t, apptest.Options{})
	ctx := context.Background()
	if _, err := b.Store.UpsertBrand(ctx, store.BrandInput{Slug: "demo-air", Name: b.Brand.Name, DefaultCountry: "GB"}); err != nil {
		t.Fatal(err)
	}
	code, out := b.api(t, http.MethodPost, "/api/v1/messages", map[string]any{"brand": "demo-air", "to": "07911 123456", "body": "hi"})
	data, _ := out["data"].(map[string]any)
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, out)
	}
	var to string
	if err := b.Store.Pool.QueryRow(ctx, `SELECT to_number FROM messages WHERE id = $1`, int64(data["id"].(float64))).Scan(&to); err != nil || to != "+447911123456" {
		t.Errorf("stored to %q, %v; want +447911123456", to, err)
	}
	if _, err := b.Store.UpsertBrand(ctx, store.BrandInput{Slug: "demo-air", Name: b.Brand.Name, DefaultCountry: "US"}); err != nil {
		t.Fatal(err)
	}
	code, out = b.api(t, http.MethodPost, "/api/v1/messages", map[string]any{"brand": "demo-air", "to": "07911 123456", "body": "hi"})
	e, _ := out["error"].(map[string]any)
	if code != http.StatusBadRequest || e["field"] != "to" || !strings.Contains(fmt.Sprint(e["message"]), "not a valid US number") {
		t.Errorf("%d %v", code, out)
	}
}
