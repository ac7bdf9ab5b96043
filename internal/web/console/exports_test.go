package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

// logBuffer keeps what the app logs, for the test to read while it runs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// entries are the JSON log lines whose msg is msg.
func (l *logBuffer) entries(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.buf.String(), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil && e["msg"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// A marketer downloads a brand's contacts and consent ledger from the
// console (and each download is logged with who took what); one limited
// to another brand gets 403 and no file, an agent gets 403, an unknown
// brand is 404 and no brand 400.
func TestExportDownloads(t *testing.T) {
	logs := &logBuffer{}
	env, users := setupWith(t, apptest.Options{LogTo: logs})
	ctx := context.Background()
	other, err := app.BrandAdd(ctx, env.Store, app.BrandAddInput{Slug: "other-air", Name: "Other Air", Numbers: []string{"+15005550009"}, MPS: 10})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := env.Store.Pool.QueryRow(ctx, `INSERT INTO contacts (name, attributes) VALUES ('Ana', '{"tier": "gold"}') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var eventID int64
	if err := env.Store.Pool.QueryRow(ctx, `WITH p AS (INSERT INTO contact_phones (phone, contact_id) VALUES ('+12125550301', $2))
		INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, created_at)
		VALUES ($1, '+12125550301', 'marketing', 'opted_in', 'import', 'spring list', '2025-03-01 15:00:00+00') RETURNING id`, env.Brand.ID, id).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	wantContacts := fmt.Sprintf("id,phones,loyalty_id,name,timezone,tier,consent_marketing,consent_conversational\n%d,+12125550301,,Ana,,gold,opted_in,none\n", id)
	wantConsent := fmt.Sprintf("id,phone,purpose,status,source,evidence,message_id,created_at,campaign_id\n%d,+12125550301,marketing,opted_in,import,spring list,,2025-03-01T15:00:00Z,\n", eventID)

	mb, _ := signedIn(t, env, users, "marketer")
	resp, page := mb.do(t, http.MethodGet, "/contacts/export", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/contacts/export.csv?brand=demo-air"`) ||
		!strings.Contains(page, `href="/consent/export.csv?brand=other-air"`) || !strings.Contains(page, `<a href="/contacts/export">Contacts</a>`) {
		t.Fatalf("the export page: %d\n%s", resp.StatusCode, page)
	}
	for path, want := range map[string]string{"/contacts/export.csv?brand=demo-air": wantContacts, "/consent/export.csv?brand=demo-air": wantConsent} {
		resp, body := mb.do(t, http.MethodGet, path, nil)
		kind := strings.TrimPrefix(path[:strings.Index(path[1:], "/")+1], "/")
		if resp.StatusCode != http.StatusOK || body != want || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="`+kind+`-demo-air-`) {
			t.Errorf("GET %s: %d %q %q\n%s\nwant\n%s", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body, want)
		}
	}
	apptest.WaitFor(t, 5*time.Second, "both downloads logged", func() bool { return len(logs.entries(t, "console export downloaded")) == 2 })
	for _, e := range logs.entries(t, "console export downloaded") {
		if e["email"] != users["marketer"] || e["role"] != "marketer" || e["brand"] != "demo-air" || e["rows"] != float64(1) ||
			(e["export"] != "contacts" && e["export"] != "consent") {
			t.Errorf("logged %v", e)
		}
	}
	for path, code := range map[string]int{"/contacts/export.csv": http.StatusBadRequest, "/consent/export.csv?brand=nope": http.StatusNotFound} {
		if resp, body := mb.do(t, http.MethodGet, path, nil); resp.StatusCode != code || strings.Contains(body, "+12125550301") {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, code)
		}
	}

	// Limited to the other brand: this one's files are refused, and the
	// page offers only the other's.
	limitTo(t, env, users["marketer"], other.ID)
	for _, path := range []string{"/contacts/export.csv?brand=demo-air", "/consent/export.csv?brand=demo-air"} {
		if resp, body := mb.do(t, http.MethodGet, path, nil); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "+12125550301") {
			t.Errorf("GET %s by a marketer of another brand: %d, want 403 and no file", path, resp.StatusCode)
		}
	}
	if _, page := mb.do(t, http.MethodGet, "/contacts/export", nil); strings.Contains(page, "brand=demo-air") || !strings.Contains(page, "brand=other-air") {
		t.Errorf("a marketer of other-air is offered demo-air's files:\n%s", page)
	}
	if resp, body := mb.do(t, http.MethodGet, "/contacts/export.csv?brand=other-air", nil); resp.StatusCode != http.StatusOK ||
		body != "id,phones,loyalty_id,name,timezone,consent_marketing,consent_conversational\n" {
		t.Errorf("other-air's contacts: %d %q, want only the header", resp.StatusCode, body)
	}
	if refused := logs.entries(t, "console export refused: brand not the user's"); len(refused) != 2 || refused[0]["email"] != users["marketer"] {
		t.Errorf("refusals logged: %v", refused)
	}

	ab, _ := signedIn(t, env, users, "agent")
	for _, path := range []string{"/contacts/export", "/contacts/export.csv?brand=demo-air", "/consent/export.csv?brand=demo-air"} {
		if resp, body := ab.do(t, http.MethodGet, path, nil); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "+12125550301") {
			t.Errorf("GET %s as an agent: %d, want 403", path, resp.StatusCode)
		}
	}
	adm, _ := signedIn(t, env, users, "admin")
	if resp, body := adm.do(t, http.MethodGet, "/contacts/export.csv?brand=demo-air", nil); resp.StatusCode != http.StatusOK || body != wantContacts {
		t.Errorf("an admin's download: %d\n%s", resp.StatusCode, body)
	}
}
