package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/console"
)

// dbFingerprint is a digest of every row of every table but the ones a
// request always touches (sessions, sign-in failures): equal before and
// after means a request changed nothing.
func dbFingerprint(t *testing.T, env *apptest.Env) string {
	t.Helper()
	ctx := context.Background()
	rows, err := env.Store.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('sessions', 'login_failures', 'goose_db_version')
		ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf(`SELECT '%s' || '=' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %q x`, name, name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(parts) < 20 {
		t.Fatalf("only %d tables found", len(parts))
	}
	var out string
	if err := env.Store.Pool.QueryRow(ctx, `SELECT string_agg(f, ' ') FROM (`+strings.Join(parts, " UNION ALL ")+`) AS t(f)`).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// otherBrand is a second brand and one object of each kind in it, for
// tests of what a user limited to demo-air may reach.
type otherBrand struct {
	brand                                      store.Brand
	conv, msg, campaign, imp, trigger, segment int64
}

// secret is the word every object of the other brand carries in its name
// or text, so that a page that lists it is caught.
const secret = "OTHERBRANDSECRET"

func addOtherBrand(t *testing.T, env *apptest.Env) otherBrand {
	t.Helper()
	ctx := context.Background()
	var o otherBrand
	var err error
	if o.brand, err = app.BrandAdd(ctx, env.Store, app.BrandAddInput{Slug: "other-air", Name: "Other Air", Numbers: []string{"+15005550009"}, MPS: 10}); err != nil {
		t.Fatal(err)
	}
	res, err := env.Store.ReceiveInbound(ctx, []store.InboundRow{{SID: "SM" + strings.Repeat("7", 32), BrandID: o.brand.ID, From: "+12125550177",
		To: "+15005550009", Body: "hello " + secret, ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	o.conv, o.msg = res[0].ConversationID, res[0].MessageID
	cp, err := env.Store.CreateCampaign(ctx, store.Campaign{BrandID: o.brand.ID, Name: secret + " campaign", Variants: []string{"Hi " + secret}})
	if err != nil {
		t.Fatal(err)
	}
	o.campaign = cp.ID
	if o.imp, err = env.Store.CreateImport(ctx, o.brand.ID, secret+".csv", "test"); err != nil {
		t.Fatal(err)
	}
	tr, err := env.Store.SaveTrigger(ctx, store.Trigger{BrandID: o.brand.ID, Name: secret + " trigger", EventType: "stay_completed", Enabled: true,
		Spec: []byte(`{"brand": "other-air", "event_type": "stay_completed", "delay": "0s", "template": "How was it?", "purpose": "conversational"}`)})
	if err != nil {
		t.Fatal(err)
	}
	o.trigger = tr.ID
	g, err := env.Store.CreateSegment(ctx, store.Segment{BrandID: o.brand.ID, Name: secret + " segment", Filter: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	o.segment = g.ID
	return o
}

// accessCase is how one console route is tried across brands.
type accessCase struct {
	path string
	form url.Values // a POST's fields (the CSRF token is added)
	// list: the route takes no other brand's object; its page must not
	// show one (200 without the secret word).
	list bool
	// refused overrides the expected 403 (a form field naming another
	// brand's object is bad input: 400, nothing stored).
	refused int
	// exempt says why the route needs no case: it touches no brand's object.
	exempt string
}

// Object-level access across brands: an agent and a marketer limited to
// demo-air try every console route with the id (or ?brand=, or form
// field) of other-air's object and get 403, and nothing changes; a page
// that lists objects shows none of other-air's. A console route added
// without a case here fails the test. Admins see every brand by design
// (conversation.Service.Brands), so admin routes are out of scope.
func TestSecurityConsoleCrossBrand(t *testing.T) {
	env, users := setup(t)
	o := addOtherBrand(t, env)
	limitTo(t, env, users["agent"], env.Brand.ID)
	limitTo(t, env, users["marketer"], env.Brand.ID)
	conv := func(tail string) string { return fmt.Sprintf("/conversations/%d%s", o.conv, tail) }
	cp := func(tail string) string { return fmt.Sprintf("/campaigns/%d%s", o.campaign, tail) }
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	cases := map[string]accessCase{
		"GET /":                               {path: "/?brand=other-air"},
		"GET /events":                         {exempt: "the stream's brand filter: TestBrandLimitedAgent"},
		"GET /conversations/:id":              {path: conv("")},
		"POST /conversations/:id/reply":       {path: conv("/reply"), form: url.Values{"body": {"x"}}},
		"POST /conversations/:id/notes":       {path: conv("/notes"), form: url.Values{"body": {"x"}}},
		"POST /conversations/:id/assign":      {path: conv("/assign"), form: url.Values{"assignee": {"me"}}},
		"POST /conversations/:id/close":       {path: conv("/close")},
		"POST /conversations/:id/survey":      {path: conv("/survey"), form: url.Values{"trigger_id": {fmt.Sprint(o.trigger)}}},
		"POST /conversations/:id/reopen":      {path: conv("/reopen")},
		"POST /conversations/:id/snooze":      {path: conv("/snooze"), form: url.Values{"until": {until}}},
		"POST /conversations/:id/labels":      {path: conv("/labels"), form: url.Values{"labels": {"x"}}},
		"POST /conversations/:id/link":        {path: conv("/link"), form: url.Values{"loyalty_id": {"L1"}}},
		"GET /analytics":                      {path: "/analytics?brand=other-air"},
		"GET /analytics.csv":                  {path: "/analytics.csv?brand=other-air"},
		"GET /analytics/me":                   {path: "/analytics/me?brand=other-air"},
		"GET /analytics/conversations":        {path: "/analytics/conversations?brand=other-air&day=" + time.Now().Format(time.DateOnly)},
		"GET /analytics/messages/:id":         {path: fmt.Sprintf("/analytics/messages/%d", o.msg)},
		"GET /campaigns":                      {path: "/campaigns", list: true},
		"POST /campaigns":                     {path: "/campaigns", form: url.Values{"brand": {"other-air"}, "name": {"x"}, "body": {"Hi"}}},
		"POST /campaigns/audience-count":      {path: "/campaigns/audience-count", form: url.Values{"brand": {"other-air"}}},
		"GET /campaigns/:id":                  {path: cp("")},
		"POST /campaigns/:id/schedule":        {path: cp("/schedule")},
		"POST /campaigns/:id/pause":           {path: cp("/pause")},
		"POST /campaigns/:id/resume":          {path: cp("/resume")},
		"POST /campaigns/:id/cancel":          {path: cp("/cancel")},
		"POST /campaigns/:id/test":            {path: cp("/test"), form: url.Values{"phone": {"+12125550177"}}},
		"GET /contacts/export":                {path: "/contacts/export", list: true},
		"GET /contacts/export.csv":            {path: "/contacts/export.csv?brand=other-air"},
		"GET /consent/export.csv":             {path: "/consent/export.csv?brand=other-air"},
		"GET /contacts/import":                {path: "/contacts/import", list: true},
		"POST /contacts/import":               {path: "/contacts/import", form: url.Values{"brand": {"other-air"}}},
		"GET /contacts/import/:id":            {path: fmt.Sprintf("/contacts/import/%d", o.imp)},
		"GET /contacts/import/:id/errors.csv": {path: fmt.Sprintf("/contacts/import/%d/errors.csv", o.imp)},
		"GET /triggers":                       {path: "/triggers", list: true},
		"POST /triggers":                      {path: "/triggers", form: url.Values{"brand": {"other-air"}, "event_type": {"x"}, "template": {"Hi"}}},
		"GET /triggers/:id":                   {path: fmt.Sprintf("/triggers/%d", o.trigger)},
		"POST /triggers/:id/delete":           {path: fmt.Sprintf("/triggers/%d/delete", o.trigger)},
		"GET /power-users":                    {path: "/power-users?brand=other-air"},
		"GET /account":                        {exempt: "the user's own account"},
		"POST /account/password":              {exempt: "the user's own account"},
		"POST /account/presence":              {exempt: "the user's own account"},
		"POST /logout":                        {exempt: "the user's own session"},
	}
	// Another brand's segment named in this brand's campaign form is bad
	// input, not access: 400 naming the field, and no campaign.
	segmentCase := accessCase{path: "/campaigns", form: url.Values{"brand": {env.Brand.Slug}, "name": {"x"}, "body": {"Hi"},
		"segment_id": {fmt.Sprint(o.segment)}}, refused: http.StatusBadRequest}

	browsers := map[string]*browser{}
	tokens := map[string]string{}
	for _, role := range []string{"agent", "marketer"} {
		browsers[role], tokens[role] = signedIn(t, env, users, role)
	}
	try := func(key string, role string, c accessCase) {
		t.Helper()
		b := browsers[role]
		method, _, _ := strings.Cut(key, " ")
		before := dbFingerprint(t, env)
		var resp *http.Response
		var page string
		if method == http.MethodGet {
			resp, page = b.do(t, method, c.path, nil)
		} else {
			form := url.Values{}
			for k, v := range c.form {
				form[k] = v
			}
			resp, page = post(t, b, c.path, tokens[role], form)
		}
		want := http.StatusForbidden
		if c.refused != 0 {
			want = c.refused
		}
		switch {
		case c.list && (resp.StatusCode != http.StatusOK || strings.Contains(page, secret)):
			t.Errorf("%s as a %s of demo-air: %d, shows other-air's objects: %v", key, role, resp.StatusCode, strings.Contains(page, secret))
		case !c.list && resp.StatusCode != want:
			t.Errorf("%s (%s) as a %s of demo-air: %d, want %d", key, c.path, role, resp.StatusCode, want)
		}
		if !c.list && strings.Contains(page, secret) {
			t.Errorf("%s as a %s of demo-air: the refusal shows other-air's text", key, role)
		}
		if after := dbFingerprint(t, env); after != before {
			t.Errorf("%s as a %s of demo-air changed the database", key, role)
		}
	}
	routes := (&console.Handlers{}).Routes()
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if r.Perm == auth.Admin {
			continue
		}
		c, ok := cases[key]
		if !ok {
			t.Errorf("%s has no cross-brand case in this test", key)
			continue
		}
		if c.exempt != "" {
			continue
		}
		role := "agent"
		if !auth.Can("agent", r.Perm) {
			role = "marketer"
		}
		try(key, role, c)
	}
	try("POST /campaigns", "marketer", segmentCase)
	for key := range cases {
		found := false
		for _, r := range routes {
			found = found || r.Method+" "+r.Path == key
		}
		if !found {
			t.Errorf("case %s names no console route", key)
		}
	}
}

// CSRF on every state-changing console route, the sign-in included: a
// token of another session (the same user's other browser, or another
// user's) or a made-up one is refused with 403, in the form or in the
// X-CSRF-Token header, and nothing changes. (A missing token: the role
// matrix.)
func TestSecurityCSRF(t *testing.T) {
	env, users := setup(t)
	conv := text(t, env, "SM"+strings.Repeat("8", 32), "+12125550188", "csrf")
	admin, _ := signedIn(t, env, users, "admin")
	_, otherAdmin := signedIn(t, env, users, "admin")
	_, agentToken := signedIn(t, env, users, "agent")
	path := func(p string) string {
		p = strings.ReplaceAll(p, ":slug", env.Brand.Slug)
		if strings.HasPrefix(p, "/conversations/") {
			return strings.ReplaceAll(p, ":id", fmt.Sprint(conv))
		}
		return strings.ReplaceAll(p, ":id", "1")
	}
	// Fields that would make most actions go through with the right token.
	fields := url.Values{"body": {"hello"}, "labels": {"vip"}, "presence": {"away"}, "name": {"x"}, "email": {"new@demo-air.example"},
		"role": {"agent"}, "slug": {"new-brand"}, "number": {"+15005550010"}, "title": {"t"}, "match": {"exact"}, "pattern": {"p"},
		"reply": {"r"}, "url": {"https://hooks.example.com/x"}, "brand": {env.Brand.Slug}}
	bad := map[string]string{"another session of the same user": otherAdmin, "another user's session": agentToken,
		"a made-up token": strings.Repeat("A", len(agentToken))}
	for _, r := range (&console.Handlers{}).Routes() {
		if r.Method == http.MethodGet {
			continue
		}
		before := dbFingerprint(t, env)
		for what, token := range bad {
			for _, inHeader := range []bool{false, true} {
				form := url.Values{}
				for k, v := range fields {
					form[k] = v
				}
				if !inHeader {
					form.Set("csrf_token", token)
				}
				req, _ := http.NewRequest(r.Method, env.PublicURL+path(r.Path), strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if inHeader {
					req.Header.Set("X-CSRF-Token", token)
				}
				resp, err := admin.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s with %s (header %v): %d, want 403", r.Method, r.Path, what, inHeader, resp.StatusCode)
				}
			}
		}
		if dbFingerprint(t, env) != before {
			t.Errorf("%s %s with a wrong CSRF token changed the database", r.Method, r.Path)
		}
	}
	// The sign-in form: its token is bound to the browser's own cookie.
	attacker, victim := newBrowser(t, env), newBrowser(t, env)
	_, page := attacker.do(t, http.MethodGet, "/login", nil)
	victim.do(t, http.MethodGet, "/login", nil)
	for what, token := range map[string]string{"another browser's sign-in token": csrfOf(t, page), "a made-up token": strings.Repeat("b", 32)} {
		resp, _ := victim.do(t, http.MethodPost, "/login", url.Values{"csrf_token": {token}, "email": {users["agent"]}, "password": {"correct horse agent"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /login with %s: %d, want 403", what, resp.StatusCode)
		}
	}
	if victim.sessionToken(t) != "" {
		t.Fatal("a refused sign-in left a session cookie")
	}
}
