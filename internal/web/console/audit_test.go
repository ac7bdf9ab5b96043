package console_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every person's action is in the audit log with who, what, on what, the
// client's address and the request id: a failed sign-in with the email
// tried, sign-in, reply, assign, close, a settings change with before and
// after, sign-out. Reads and refused actions are not; the page filters,
// downloads as CSV, and only admins see it; no row can be changed.
func TestAuditLogRecordsActions(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	conv := text(t, env, "SM00000000000000000000000000000a01", "+12125550701", "where is my bag")

	anon := newBrowser(t, env)
	if resp, _ := anon.login(t, users["agent"], "wrong password"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad password: %d", resp.StatusCode)
	}
	ab, csrf := signedIn(t, env, users, "agent")
	path := fmt.Sprintf("/conversations/%d", conv)
	for _, a := range []struct {
		path string
		form url.Values
	}{{path + "/reply", url.Values{"body": {"Looking into it"}}}, {path + "/close", nil}} {
		if resp, body := post(t, ab, a.path, csrf, a.form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", a.path, resp.StatusCode, body)
		}
	}
	// A refused action (an agent on an admin page) is no entry.
	if resp, _ := post(t, ab, "/admin/canned", csrf, url.Values{"title": {"x"}, "body": {"y"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("agent on an admin form: %d", resp.StatusCode)
	}
	if resp, _ := post(t, ab, "/logout", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}

	type row struct{ actor, kind, action, target, ip, reqID, detail string }
	var got []row
	rs, err := env.Store.Pool.Query(ctx, `SELECT actor, actor_type, action, target, ip, request_id, detail::text FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.actor, &r.kind, &r.action, &r.target, &r.ip, &r.reqID, &r.detail); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	target := fmt.Sprintf("conversation:%d", conv)
	want := []row{
		{users["agent"], "anonymous", "login_failed", "user:" + users["agent"], "", "", ""},
		{users["agent"], "user", "login", "user:" + users["agent"], "", "", ""},
		{users["agent"], "user", "reply", target, "", "", ""},
		{users["agent"], "user", "close", target, "", "", ""},
		{users["agent"], "user", "logout", "", "", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("audit log: %+v\nwant the actions %+v", got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.actor != w.actor || g.kind != w.kind || g.action != w.action || g.target != w.target || g.ip == "" || len(g.reqID) < 8 {
			t.Errorf("entry %d: %+v, want %+v with an address and a request id", i, g, w)
		}
	}
	if !strings.Contains(got[0].detail, `"email": "`+users["agent"]+`"`) || !strings.Contains(got[0].detail, "bad_credentials") {
		t.Errorf("a failed sign-in keeps the email tried and why: %s", got[0].detail)
	}

	// An admin's settings change has before and after; the page lists and
	// filters; the CSV has the same rows.
	adm, acsrf := signedIn(t, env, users, "admin")
	if resp, body := post(t, adm, "/admin/routing/"+env.Brand.Slug+"/settings", acsrf, url.Values{"assignment": {"manual"}, "timezone": {"America/New_York"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("settings: %d %s", resp.StatusCode, body)
	}
	var before, after string
	if err := env.Store.Pool.QueryRow(ctx, `SELECT coalesce(before::text, ''), coalesce(after::text, '') FROM audit_log WHERE action = 'settings.update'`).Scan(&before, &after); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(after, "manual") || before == after {
		t.Errorf("settings change: before %s, after %s", before, after)
	}
	_, page := adm.do(t, http.MethodGet, "/admin/audit?action=login_failed", nil)
	if !strings.Contains(page, "login_failed") || strings.Contains(page, ">reply<") {
		t.Errorf("filtered page:\n%s", page)
	}
	if resp, page := adm.do(t, http.MethodGet, "/admin/audit?since=yesterday", nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "since") {
		t.Errorf("bad since: %d", resp.StatusCode)
	}
	resp, body := adm.do(t, http.MethodGet, "/admin/audit.csv?actor="+url.QueryEscape(users["agent"]), nil)
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK || len(recs) != 1+len(want) || recs[0][4] != "action" || recs[1][4] != "logout" {
		t.Errorf("CSV: %d %v %q", resp.StatusCode, err, recs)
	}
	if resp, _ := ab.do(t, http.MethodGet, "/admin/audit", nil); resp.StatusCode == http.StatusOK {
		t.Error("a signed-out agent read the audit log")
	}
	for _, q := range []string{`UPDATE audit_log SET actor = 'someone else'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := env.Store.Pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused", q, err)
		}
	}
}
