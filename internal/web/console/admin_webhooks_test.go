package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
)

// An admin subscribes a URL, sees its secret once, sends a test event that
// arrives signed and shows in the delivery log, and deletes it.
func TestAdminWebhooks(t *testing.T) {
	env, users := setupWith(t, apptest.Options{Worker: true})
	var posts atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("X-Parley-Event") == "webhook.test" && strings.Contains(r.Header.Get("X-Parley-Signature"), ",v1=") {
			posts.Add(1)
		}
	}))
	t.Cleanup(recv.Close)
	b, csrf := signedIn(t, env, users, "admin")

	// https only (http to this machine): 400 naming the url; unknown event: 400.
	if resp, body := post(t, b, "/admin/webhooks", csrf, url.Values{"brand": {env.Brand.Slug}, "url": {"http://hooks.example.com/x"},
		"events": {"message.received"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "url") {
		t.Fatalf("http URL: %d", resp.StatusCode)
	}
	if resp, body := post(t, b, "/admin/webhooks", csrf, url.Values{"brand": {env.Brand.Slug}, "url": {recv.URL},
		"events": {"message.nope"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "events") {
		t.Fatalf("unknown event: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM webhooks`); n != 0 {
		t.Fatal("a refused form stored a webhook")
	}

	resp, page := post(t, b, "/admin/webhooks", csrf, url.Values{"brand": {env.Brand.Slug}, "url": {recv.URL},
		"events": {"message.received", "conversation.closed"}})
	m := regexp.MustCompile(`<code data-secret>(whsec_[0-9a-f]+)</code>`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: %d, secret shown? %v", resp.StatusCode, m != nil)
	}
	var id int64
	if err := env.Store.Pool.QueryRow(t.Context(), `SELECT id FROM webhooks`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, again := b.do(t, http.MethodGet, "/admin/webhooks", nil); strings.Contains(again, m[1]) || !strings.Contains(again, recv.URL) {
		t.Fatal("the list shows the URL, and the secret only once")
	}
	if resp, _ := post(t, b, fmt.Sprintf("/admin/webhooks/%d/test", id), csrf, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send test: %d, want 303 to the delivery log", resp.StatusCode)
	}
	apptest.WaitFor(t, 10*time.Second, "the test event", func() bool { return posts.Load() == 1 })
	apptest.WaitFor(t, 5*time.Second, "the log", func() bool {
		_, log := b.do(t, http.MethodGet, fmt.Sprintf("/admin/webhooks?log=%d", id), nil)
		return strings.Contains(log, "webhook.test") && strings.Contains(log, "delivered")
	})
	// Closing a conversation in the console is conversation.closed, after
	// the text's message.received.
	conv := text(t, env, "SM"+strings.Repeat("5", 32), "+12125550155", "thanks, bye")
	if resp, body := post(t, b, fmt.Sprintf("/conversations/%d/close", conv), csrf, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d %s", resp.StatusCode, body)
	}
	apptest.WaitFor(t, 10*time.Second, "message.received then conversation.closed delivered", func() bool {
		return env.Count(t, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' AND conversation_id = $1
			AND type IN ('message.received', 'conversation.closed')`, conv) == 2
	})
	if resp, _ := post(t, b, fmt.Sprintf("/admin/webhooks/%d/delete", id), csrf, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM webhooks WHERE deleted_at IS NULL`); n != 0 {
		t.Fatal("the webhook is still live")
	}
	if resp, _ := post(t, b, fmt.Sprintf("/admin/webhooks/%d/delete", id), csrf, url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("delete again: %d, want 404", resp.StatusCode)
	}
}
