package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The queue monitor is for signed-in admins: its page and its API answer
// them, other roles get 403, visitors the sign-in page; a change from
// another site is refused.
func TestQueueMonitor(t *testing.T) {
	env, users := setup(t)
	anon := newBrowser(t, env)
	if resp, _ := anon.do(t, http.MethodGet, "/admin/queues", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	agent, _ := signedIn(t, env, users, "agent")
	if resp, _ := agent.do(t, http.MethodGet, "/admin/queues", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("agent: %d", resp.StatusCode)
	}
	admin, _ := signedIn(t, env, users, "admin")
	resp, page := admin.do(t, http.MethodGet, "/admin/queues", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "<div id=\"root\"") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("admin: %d %s\n%.300s", resp.StatusCode, resp.Header, page)
	}
	resp, body := admin.do(t, http.MethodGet, "/admin/queues/api/queues", nil)
	var qs struct {
		Queues []struct {
			Queue string `json:"queue"`
		} `json:"queues"`
	}
	if err := json.Unmarshal([]byte(body), &qs); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("queues API: %d %v %s", resp.StatusCode, err, body)
	}
	req, _ := http.NewRequest(http.MethodPost, env.PublicURL+"/admin/queues/api/queues/bulk:pause", nil)
	req.Header.Set("Origin", "https://elsewhere.example")
	r, err := admin.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site change: %d", r.StatusCode)
	}
}
