package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/web/console"
)

// TestRoleMatrix walks every signed-in console route as every role: a role
// without the route's permission gets 403 and nothing in the database
// changes; a role with it is let through (whatever the handler then says
// about the empty form). Every state-changing route also refuses a request
// without the CSRF token.
func TestRoleMatrix(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	conv := text(t, env, "SM"+strings.Repeat("9", 32), "+12125550199", "matrix")
	tables := []string{"conversations", "messages", "conversation_notes", "conversation_activity", "users", "user_brands",
		"brands", "brand_numbers", "api_keys", "canned_responses", "contacts", "contact_phones", "consent_events"}
	fingerprint := func() string {
		t.Helper()
		var b strings.Builder
		for _, tb := range tables {
			var h string
			if err := env.Store.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %s x`, tb)).Scan(&h); err != nil {
				t.Fatal(err)
			}
			b.WriteString(tb + "=" + h + " ")
		}
		return b.String()
	}
	routes := (&console.Handlers{}).Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d console routes listed", len(routes))
	}
	path := func(p string) string {
		p = strings.ReplaceAll(p, ":slug", env.Brand.Slug)
		if strings.HasPrefix(p, "/conversations/") {
			return strings.ReplaceAll(p, ":id", fmt.Sprint(conv))
		}
		return strings.ReplaceAll(p, ":id", "999999")
	}
	for _, role := range []string{"admin", "agent", "marketer"} {
		b, csrf := signedIn(t, env, users, role)
		for _, r := range routes {
			if r.Perm == "" {
				continue
			}
			allowed := auth.Can(role, r.Perm)
			before := fingerprint()
			var form url.Values
			if r.Method != http.MethodGet {
				form = url.Values{"csrf_token": {csrf}}
			}
			entries := auditCount(t, env, users[role])
			code := request(t, b, r.Method, path(r.Path), form)
			// An action let through and answered below 400 is one audit
			// entry, under its name and with its actor; anything else none.
			wantEntry := allowed && code < 400 && audit.Recorded(r.Method, r.Path)
			if got := auditCount(t, env, users[role]) - entries; wantEntry && (got != 1 ||
				env.Count(t, `SELECT count(*) FROM audit_log WHERE actor = $1 AND action = $2`, users[role], audit.ActionOf(r.Method, r.Path)) == 0) {
				t.Errorf("%s %s as %s (%d): %d audit entries, want one named %s", r.Method, r.Path, role, code, got, audit.ActionOf(r.Method, r.Path))
			} else if !wantEntry && got != 0 {
				t.Errorf("%s %s as %s (%d): %d audit entries, want none", r.Method, r.Path, role, code, got)
			}
			switch {
			case !allowed && code != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403", r.Method, r.Path, role, code)
			case allowed && code == http.StatusForbidden:
				t.Errorf("%s %s as %s: 403, but the role has %q", r.Method, r.Path, role, r.Perm)
			}
			if !allowed {
				if after := fingerprint(); after != before {
					t.Errorf("%s %s as %s was refused but changed the database", r.Method, r.Path, role)
				}
			}
			if r.Method != http.MethodGet && allowed {
				before, entries := fingerprint(), auditCount(t, env, users[role])
				if code := request(t, b, r.Method, path(r.Path), url.Values{}); code != http.StatusForbidden {
					t.Errorf("%s %s as %s without a CSRF token: %d, want 403", r.Method, r.Path, role, code)
				}
				if fingerprint() != before || auditCount(t, env, users[role]) != entries {
					t.Errorf("%s %s without a CSRF token changed the database or the audit log", r.Method, r.Path)
				}
			}
		}
	}
	// Anonymous: every page sends to the sign-in page, every action is refused.
	anon := newBrowser(t, env)
	for _, r := range routes {
		code := request(t, anon, r.Method, path(r.Path), url.Values{})
		want := http.StatusSeeOther
		if r.Method != http.MethodGet {
			want = http.StatusForbidden
		}
		if code != want {
			t.Errorf("anonymous %s %s: %d, want %d", r.Method, r.Path, code, want)
		}
	}
}

// auditCount is how many audit entries actor has.
func auditCount(t *testing.T, env *apptest.Env, actor string) int {
	t.Helper()
	return env.Count(t, `SELECT count(*) FROM audit_log WHERE actor = $1`, actor)
}

// request sends one request and returns its status without waiting for the
// end of a streaming answer (GET /events).
func request(t *testing.T, b *browser, method, path string, form url.Values) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequestWithContext(ctx, method, b.env.PublicURL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
