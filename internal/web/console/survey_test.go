package console_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

// The after-conversation survey: an agent's close asks it (once in 7 days
// whatever the closes), a low rating reopens the conversation for a person
// with high priority, shown in the inbox, and an agent can send it by hand.
func TestSurveyOnCloseAndServiceRecovery(t *testing.T) {
	env, users := setupWith(t, apptest.Options{Worker: true, App: func(o *app.Options) { o.TriggerEvery = 50 * time.Millisecond }})
	ctx := context.Background()
	const phone = "+12125550901"
	if code, _ := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM00000000000000000000000000000901", phone, "my bag is lost")); code != http.StatusOK {
		t.Fatalf("inbound: %d", code)
	}
	var conv int64
	if err := env.Store.Pool.QueryRow(ctx, `SELECT id FROM conversations`).Scan(&conv); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Pool.Exec(ctx, `INSERT INTO brand_settings (brand_id, settings) VALUES ($1, '{"csat": {"enabled": true,
		"follow_ups": {"negative": "Sorry. A manager will call you."}}}')`, env.Brand.ID); err != nil {
		t.Fatal(err)
	}
	ab := newBrowser(t, env)
	ab.login(t, users["agent"], "correct horse agent")
	path := fmt.Sprintf("/conversations/%d", conv)
	_, page := ab.do(t, http.MethodGet, path, nil)
	csrf := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page)[1]
	if !strings.Contains(page, `id="survey"`) {
		t.Fatal("no survey button for a brand with a survey")
	}
	for i := 0; i < 2; i++ {
		if resp, _ := post(t, ab, path+"/close", csrf, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("close: %d", resp.StatusCode)
		}
		if resp, _ := post(t, ab, path+"/reopen", csrf, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reopen: %d", resp.StatusCode)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM question_asks WHERE origin = 'csat'`); n != 1 {
		t.Fatalf("%d surveys after two closes, want 1", n)
	}
	apptest.WaitFor(t, 10*time.Second, "the survey sent", func() bool {
		return env.Count(t, `SELECT count(*) FROM messages m JOIN question_asks a ON a.message_id = m.id WHERE m.sent_at IS NOT NULL
			AND m.body LIKE 'How did we do today?%'`) == 1
	})
	if code, _ := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM00000000000000000000000000000902", phone, "2 - nobody helped")); code != http.StatusOK {
		t.Fatalf("inbound: %d", code)
	}
	apptest.WaitFor(t, 10*time.Second, "the low rating read", func() bool {
		return env.Count(t, `SELECT count(*) FROM conversations WHERE priority = 'high' AND priority_reason = 'low_rating' AND status = 'open'`) == 1
	})
	apptest.WaitFor(t, 10*time.Second, "the apology sent", func() bool {
		for _, m := range env.Twilio.Sent() {
			if m.To == phone && strings.Contains(m.Body, "A manager will call you") {
				return true
			}
		}
		return false
	})
	if _, page := ab.do(t, http.MethodGet, "/", nil); !strings.Contains(page, "high priority: low rating") {
		t.Fatal("the inbox does not show the conversation's high priority")
	}
	if _, page := ab.do(t, http.MethodGet, path, nil); !strings.Contains(page, "data-answers") || !strings.Contains(page, "low_rating") {
		t.Fatal("the contact panel does not show the answer")
	}
	if resp, _ := post(t, ab, path+"/survey", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("survey by hand: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM question_asks WHERE origin = 'csat'`); n != 2 {
		t.Fatalf("%d surveys after one by hand, want 2", n)
	}
}
