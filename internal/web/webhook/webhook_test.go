package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store"
)

const smsPath = "/webhooks/twilio/sms"

func setup(t *testing.T) *apptest.Env {
	t.Helper()
	t.Parallel()
	return apptest.New(t, apptest.Options{})
}

func messages(t *testing.T, env *apptest.Env, convID int64) []store.Message {
	t.Helper()
	msgs, err := env.Store.ConversationMessages(context.Background(), convID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// Literal Twilio payloads and the rows they must produce.
func TestInboundPayloads(t *testing.T) {
	env := setup(t)
	tests := []struct {
		name      string
		form      url.Values
		wantFrom  string
		wantBody  string
		wantMedia []store.Media
	}{
		{
			name:     "plain sms",
			form:     apptest.Inbound("SM10000000000000000000000000000001", "+14155550100", "Is my flight on time?"),
			wantFrom: "+14155550100", wantBody: "Is my flight on time?",
		},
		{
			name: "mms with two images and no body",
			form: func() url.Values {
				f := apptest.Inbound("MM10000000000000000000000000000002", "+14155550101", "")
				f.Set("NumMedia", "2")
				f.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")
				f.Set("MediaContentType0", "image/jpeg")
				f.Set("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2")
				f.Set("MediaContentType1", "image/png")
				return f
			}(),
			wantFrom: "+14155550101", wantBody: "",
			wantMedia: []store.Media{
				{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", ContentType: "image/jpeg"},
				{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", ContentType: "image/png"},
			},
		},
		{
			name:     "short code sender kept as is",
			form:     apptest.Inbound("SM10000000000000000000000000000003", "72345", "Your code is 1234"),
			wantFrom: "72345", wantBody: "Your code is 1234",
		},
		{
			name:     "alphanumeric sender kept as is",
			form:     apptest.Inbound("SM10000000000000000000000000000004", "DemoBank", "Balance alert"),
			wantFrom: "DemoBank", wantBody: "Balance alert",
		},
		{
			name:     "unicode body",
			form:     apptest.Inbound("SM10000000000000000000000000000005", "+447700900123", "Merci beaucoup ✈️ 😀"),
			wantFrom: "+447700900123", wantBody: "Merci beaucoup ✈️ 😀",
		},
	}
	for _, tt := range tests {
		code, body := env.PostForm(t, smsPath, tt.form)
		if code != http.StatusOK || !strings.Contains(body, "<Response/>") {
			t.Fatalf("%s: got %d %q, want 200 TwiML", tt.name, code, body)
		}
		convs, err := env.Store.MessagesBetween(context.Background(), apptest.BrandNumber, tt.wantFrom, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(convs) != 1 {
			t.Fatalf("%s: %d messages stored for %s, want 1", tt.name, len(convs), tt.wantFrom)
		}
		m := convs[0]
		if m.Direction != "inbound" || m.Body != tt.wantBody || m.TwilioSID != tt.form.Get("MessageSid") ||
			m.To != apptest.BrandNumber || m.ConversationID == 0 || m.Status != "received" {
			t.Fatalf("%s: stored %+v", tt.name, m)
		}
		if fmt.Sprint(m.Media) != fmt.Sprint(tt.wantMedia) && (len(m.Media) != 0 || len(tt.wantMedia) != 0) {
			t.Fatalf("%s: media %+v, want %+v", tt.name, m.Media, tt.wantMedia)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE extra->>'FromCity' = 'NEW YORK' AND extra->>'NumSegments' = '1'`); n != len(tests) {
		t.Fatalf("extra webhook fields kept on %d messages, want %d", n, len(tests))
	}
}

// Twilio may deliver the same webhook more than once; 100 concurrent copies
// must store one message and answer 200 to all.
func TestConcurrentDuplicates(t *testing.T) {
	env := setup(t)
	form := apptest.Inbound("SM20000000000000000000000000000001", "+14155550111", "hello once")
	var wg sync.WaitGroup
	codes := make(chan int, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := env.PostForm(t, smsPath, form)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Fatalf("a duplicate got %d, want 200", c)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE twilio_sid = $1`, form.Get("MessageSid")); n != 1 {
		t.Fatalf("%d rows for one MessageSid, want 1", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM contacts`); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversations`); n != 1 {
		t.Fatalf("%d conversations, want 1", n)
	}
}

// First texts from many new phones at once, several texts each: one contact
// and one conversation per phone, every message stored.
func TestConcurrentNewContacts(t *testing.T) {
	env := setup(t)
	var wg sync.WaitGroup
	for p := 0; p < 20; p++ {
		for k := 0; k < 5; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				from := fmt.Sprintf("+1415555%04d", p)
				code, body := env.PostForm(t, smsPath, apptest.Inbound(fmt.Sprintf("SM3%033d", p*10+k), from, "hi"))
				if code != 200 {
					t.Errorf("got %d %s", code, body)
				}
			}()
		}
	}
	wg.Wait()
	if n := env.Count(t, `SELECT count(*) FROM messages`); n != 100 {
		t.Fatalf("%d messages, want 100", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM contacts`); n != 20 {
		t.Fatalf("%d contacts, want 20", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversations`); n != 20 {
		t.Fatalf("%d conversations, want 20", n)
	}
}

func TestBadRequestsStoreNothing(t *testing.T) {
	env := setup(t)
	good := apptest.Inbound("SM40000000000000000000000000000001", "+14155550122", "hi")
	without := func(field string) url.Values {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		f.Del(field)
		if field == "MessageSid" {
			f.Del("SmsMessageSid")
			f.Del("SmsSid")
		}
		return f
	}
	with := func(field, val string) url.Values {
		f := without("")
		f.Set(field, val)
		return f
	}
	tests := []struct {
		name     string
		body     string
		sig      string
		wantCode int
		wantText string
	}{
		{"no signature", good.Encode(), "", 403, "invalid_signature"},
		{"wrong signature", good.Encode(), env.Sign(smsPath, with("Body", "other")), 403, "invalid_signature"},
		{"signed for another URL", good.Encode(), env.Sign(smsPath+"?x=1", good), 403, "invalid_signature"},
		{"missing MessageSid", without("MessageSid").Encode(), env.Sign(smsPath, without("MessageSid")), 400, "MessageSid"},
		{"missing From", without("From").Encode(), env.Sign(smsPath, without("From")), 400, "From"},
		{"missing To", without("To").Encode(), env.Sign(smsPath, without("To")), 400, "To"},
		{"garbage From", with("From", "+1 (555) ???").Encode(), env.Sign(smsPath, with("From", "+1 (555) ???")), 400, "From"},
		{"To is not a brand number", with("To", "+14155559999").Encode(), env.Sign(smsPath, with("To", "+14155559999")), 404, "unknown_number"},
	}
	for _, tt := range tests {
		code, body := env.PostRaw(t, smsPath, tt.body, tt.sig)
		if code != tt.wantCode || !strings.Contains(body, tt.wantText) {
			t.Errorf("%s: got %d %s, want %d mentioning %q", tt.name, code, body, tt.wantCode, tt.wantText)
		}
	}
	// Unsigned requests get 403 whatever they carry.
	for _, ct := range []string{"text/plain", "application/json", ""} {
		req, _ := http.NewRequest(http.MethodPost, env.PublicURL+smsPath, strings.NewReader(`{"MessageSid":"SM1"}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("unsigned %q body: %d, want 403", ct, resp.StatusCode)
		}
	}
	// A NUL or invalid UTF-8 in a signed body is stored cleaned, not refused.
	dirty := with("Body", "bad\x00byte \xff end")
	if code, body := env.PostForm(t, smsPath, dirty); code != 200 {
		t.Errorf("dirty body: %d %s", code, body)
	}
	big := with("Body", strings.Repeat("x", 70<<10))
	if code, _ := env.PostForm(t, smsPath, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB body: got %d, want 413", code)
	}
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE body <> $1`, "badbyte \uFFFD end") + env.Count(t, `SELECT count(*) FROM contacts`) - 1; n != 0 {
		t.Fatalf("bad requests stored %d rows", n)
	}
	resp, err := http.Get(env.PublicURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(text), `parley_webhook_signature_failures_total{endpoint="sms"} 6`) {
		t.Fatalf("metrics do not count the 6 signature failures:\n%s", grep(string(text), "signature"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
