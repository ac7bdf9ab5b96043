package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/console"
)

// tableRows is every table's row count: a table an injection dropped is
// missing, one it wrote to has another count.
func tableRows(t *testing.T, env *apptest.Env) map[string]int {
	t.Helper()
	ctx := context.Background()
	rows, err := env.Store.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	out := map[string]int{}
	for _, n := range names {
		out[n] = env.Count(t, fmt.Sprintf(`SELECT count(*) FROM %q`, n))
	}
	return out
}

// sameRows compares two tableRows but for what any request may write
// (sessions, the audit log, sign-in failures, and which conversations a
// user has read, which opening one records).
func sameRows(t *testing.T, what string, before, after map[string]int) {
	t.Helper()
	for name, n := range before {
		switch m, ok := after[name]; {
		case !ok:
			t.Errorf("%s: table %s is gone", what, name)
		case name == "sessions" || name == "audit_log" || name == "login_failures" || name == "conversation_reads":
		case m != n:
			t.Errorf("%s: table %s went from %d to %d rows", what, name, n, m)
		}
	}
}

// The SQL-injection corpus against every filter and search of the console —
// the inbox (search, status, assignee, brand, label, cursor), the audit
// log's filters, the analytics dashboard's parameters and its downloads, a
// day's conversations, the exports, the power users, a campaign's preview,
// and the audience counter's tiers, labels, phones and attribute
// conditions: each answers 200 or a 4xx, never a 5xx, and every table is
// still there with the same rows.
func TestSecurityConsoleSQLInjection(t *testing.T) {
	env, users := setup(t)
	conv := text(t, env, "SM"+strings.Repeat("6", 32), "+12125550166", "hello")
	cp, err := env.Store.CreateCampaign(context.Background(), store.Campaign{BrandID: env.Brand.ID, Name: "Spring", Variants: []string{"Hi"}})
	if err != nil {
		t.Fatal(err)
	}
	admin, csrf := signedIn(t, env, users, "admin")
	before := tableRows(t, env)
	period := "&from=2026-11-01&to=2026-11-07"
	gets := []string{
		"/?q=P", "/?status=P", "/?assignee=P", "/?brand=P", "/?label=P", "/?after=P", "/?status=any&q=P",
		fmt.Sprintf("/conversations/%d?before=P", conv), "/conversations/P",
		"/admin/audit?actor=P", "/admin/audit?action=P", "/admin/audit?since=P", "/admin/audit?until=P", "/admin/audit?before=P",
		"/admin/audit.csv?actor=P",
		"/analytics?brand=P", "/analytics?from=P", "/analytics?to=P", "/analytics?granularity=P" + period,
		"/analytics.csv?report=P" + period, "/analytics.csv?brand=P" + period,
		"/analytics/conversations?day=P", "/analytics/conversations?day=2026-11-02&after=P", "/analytics/messages/P",
		"/contacts/export.csv?brand=P", "/consent/export.csv?brand=P", "/power-users?brand=P",
		fmt.Sprintf("/campaigns/%d?preview=P", cp.ID), "/campaigns/P", "/triggers/P", "/contacts/import/P",
		"/admin/routing?brand=P", "/admin/webhooks?log=P",
	}
	for _, p := range apptest.SQLInjection {
		for _, g := range gets {
			path := strings.ReplaceAll(g, "P", url.QueryEscape(p))
			if strings.Contains(g, "/P") {
				path = strings.ReplaceAll(g, "P", url.PathEscape(p))
			}
			if code := request(t, admin, http.MethodGet, path, nil); code >= 500 {
				t.Errorf("GET %s with %.40q: %d", g, p, code)
			}
		}
		for _, field := range []string{"tiers", "labels", "phones", "conditions", "segment_id"} {
			form := url.Values{"csrf_token": {csrf}, "brand": {env.Brand.Slug}, field: {p}}
			if field == "conditions" {
				form.Set(field, p+" = "+p+"\n"+"city = "+p)
			}
			if code := request(t, admin, http.MethodPost, "/campaigns/audience-count", form); code >= 500 {
				t.Errorf("POST /campaigns/audience-count, %s %.40q: %d", field, p, code)
			}
		}
	}
	sameRows(t, "the injection corpus", before, tableRows(t, env))
}

// Oversized and malformed form posts on every state-changing console
// route, with a good CSRF token: past the 64 KiB limit is 413 (the upload
// has its own, larger one) and changes nothing; NUL characters or bytes that are not UTF-8 in any field are a
// 400 naming the field, never a 5xx.
func TestSecurityConsoleMalformedForms(t *testing.T) {
	env, users := setup(t)
	conv := text(t, env, "SM"+strings.Repeat("5", 32), "+12125550155", "hello")
	admin, csrf := signedIn(t, env, users, "admin")
	path := func(p string) string {
		p = strings.ReplaceAll(p, ":slug", env.Brand.Slug)
		if strings.HasPrefix(p, "/conversations/") {
			return strings.ReplaceAll(p, ":id", fmt.Sprint(conv))
		}
		return strings.ReplaceAll(p, ":id", "1")
	}
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	fields := url.Values{"body": {"hello"}, "labels": {"vip"}, "name": {"x"}, "email": {"x@demo-air.example"}, "title": {"t"},
		"pattern": {"p"}, "reply": {"r"}, "loyalty_id": {"L1"}, "until": {until}, "note": {"n"}, "phone": {"+12125550155"}}
	routes := (&console.Handlers{}).Routes()
	for _, r := range routes {
		if r.Method == http.MethodGet || r.Path == "/logout" {
			continue
		}
		before := dbFingerprint(t, env)
		big := url.Values{"csrf_token": {csrf}, "body": {strings.Repeat("x", 70<<10)}}
		if code := request(t, admin, r.Method, path(r.Path), big); r.Path != "/contacts/import" && code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s with a 70 KiB form: %d, want 413", r.Method, r.Path, code)
		}
		if dbFingerprint(t, env) != before {
			t.Errorf("%s %s with a 70 KiB form changed the database", r.Method, r.Path)
		}
		for _, bad := range []string{"nul\x00byte", "not \xff\xfe utf-8"} {
			form := url.Values{"csrf_token": {csrf}}
			for k, v := range fields {
				form[k] = []string{v[0] + bad}
			}
			before := dbFingerprint(t, env)
			resp, page := admin.do(t, r.Method, path(r.Path), form)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "UTF-8") {
				t.Errorf("%s %s with %q in every field: %d %.200s, want 400 naming the field", r.Method, r.Path, bad, resp.StatusCode, page)
			}
			if dbFingerprint(t, env) != before {
				t.Errorf("%s %s with %q in every field changed the database", r.Method, r.Path, bad)
			}
		}
	}
	// The sign-in form too: refused before any password is checked.
	b := newBrowser(t, env)
	_, page := b.do(t, http.MethodGet, "/login", nil)
	resp, _ := b.do(t, http.MethodPost, "/login", url.Values{"csrf_token": {csrfOf(t, page)}, "email": {users["agent"] + "\x00"}, "password": {"x"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("sign-in with a NUL in the email: %d, want 400", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM login_failures`); n != 0 {
		t.Errorf("a refused sign-in form counted %d password checks", n)
	}
}
