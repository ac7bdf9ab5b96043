package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store"
)

func TestAdminInviteAndDisable(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	b, csrf := signedIn(t, env, users, "admin")

	resp, page := post(t, b, "/admin/users", csrf, url.Values{"email": {"New.Agent@Demo-Air.example"}, "name": {"Nia"}, "role": {"agent"}, "brand": {env.Brand.Slug}})
	m := regexp.MustCompile(`id="invited-password">([^<]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("invite: %d, password shown? %v", resp.StatusCode, m != nil)
	}
	if n := env.Count(t, `SELECT count(*) FROM users u JOIN user_brands ub ON ub.user_id = u.id WHERE u.email = 'new.agent@demo-air.example' AND u.role = 'agent' AND u.name = 'Nia'`); n != 1 {
		t.Fatal("the invited user is stored with role, name and brand")
	}
	if _, again := b.do(t, http.MethodGet, "/admin/users", nil); strings.Contains(again, m[1]) {
		t.Fatal("the password is shown only once")
	}
	// Duplicate email: 409, nothing changed. Bad role: 400 naming the field.
	if resp, body := post(t, b, "/admin/users", csrf, url.Values{"email": {"new.agent@demo-air.example"}, "role": {"agent"}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "email") {
		t.Fatalf("duplicate invite: %d", resp.StatusCode)
	}
	if resp, body := post(t, b, "/admin/users", csrf, url.Values{"email": {"x@demo-air.example"}, "role": {"boss"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "role") {
		t.Fatalf("bad role: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE email = 'x@demo-air.example'`); n != 0 {
		t.Fatal("a refused invite created a user")
	}
	// The invited password signs in.
	nb := newBrowser(t, env)
	if resp, _ := nb.login(t, "new.agent@demo-air.example", m[1]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the invited password: %d", resp.StatusCode)
	}
	if resp, _ := nb.do(t, http.MethodGet, "/", nil); resp.StatusCode != 200 {
		t.Fatalf("the invited agent's inbox: %d", resp.StatusCode)
	}
	var id string
	if err := env.Store.Pool.QueryRow(ctx, `SELECT id::text FROM users WHERE email = 'new.agent@demo-air.example'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if resp, body := post(t, b, "/admin/users/"+id, csrf, url.Values{"role": {"agent"}, "name": {"Nia"}, "disabled": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", resp.StatusCode, body)
	}
	if resp, _ := nb.do(t, http.MethodGet, "/", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a disabled user's session still works: %d", resp.StatusCode)
	}
	// An admin cannot lock themself out.
	var me string
	if err := env.Store.Pool.QueryRow(ctx, `SELECT id::text FROM users WHERE email = $1`, users["admin"]).Scan(&me); err != nil {
		t.Fatal(err)
	}
	if resp, body := post(t, b, "/admin/users/"+me, csrf, url.Values{"role": {"agent"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "role") {
		t.Fatalf("self-demotion: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE email = $1 AND role = 'admin' AND NOT disabled`, users["admin"]); n != 1 {
		t.Fatal("the admin was changed")
	}
}

func TestAdminAPIKeysBrandsAndCanned(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "admin")

	_, page := post(t, b, "/admin/api-keys", csrf, url.Values{"name": {"loyalty sync"}})
	m := regexp.MustCompile(`id="new-key">([^<]+)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the new key is shown")
	}
	api := func() int {
		req, _ := http.NewRequest(http.MethodGet, env.PublicURL+"/api/v1/conversations?brand="+env.Brand.Slug, nil)
		req.Header.Set("Authorization", "Bearer "+m[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := api(); code != 200 {
		t.Fatalf("the console's key on the API: %d", code)
	}
	var id string
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM api_keys WHERE name = 'loyalty sync'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := post(t, b, "/admin/api-keys/"+id+"/revoke", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if code := api(); code != http.StatusUnauthorized {
		t.Fatalf("a revoked key: %d, want 401", code)
	}

	// Brands and numbers.
	if resp, body := post(t, b, "/admin/brands", csrf, url.Values{"slug": {"sky-eats"}, "name": {"Sky Eats"}, "timezone": {"America/Chicago"}, "sla_minutes": {"30"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create brand: %d %s", resp.StatusCode, body)
	}
	if resp, body := post(t, b, "/admin/brands", csrf, url.Values{"slug": {"sky-eats"}, "name": {"Again"}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "slug") {
		t.Fatalf("duplicate slug: %d", resp.StatusCode)
	}
	if resp, body := post(t, b, "/admin/brands/sky-eats", csrf, url.Values{"name": {"Sky Eats"}, "timezone": {"Mars/Olympus"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "timezone") {
		t.Fatalf("bad time zone: %d", resp.StatusCode)
	}
	if resp, body := post(t, b, "/admin/brands/sky-eats/numbers", csrf, url.Values{"number": {"+1 (500) 555-0010"}, "mps": {"25"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add number: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(t, b, "/admin/brands/sky-eats/numbers", csrf, url.Values{"number": {"not a number"}, "mps": {"25"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad number: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM brands b JOIN brand_numbers n ON n.brand_id = b.id
		WHERE b.slug = 'sky-eats' AND b.timezone = 'America/Chicago' AND b.sla_minutes = 30 AND n.number = '+15005550010' AND n.mps = 25`); n != 1 {
		t.Fatal("the brand and its number are stored as given")
	}
	if resp, _ := post(t, b, "/admin/brands/no-such/numbers", csrf, url.Values{"number": {"+15005550011"}, "mps": {"1"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("number for an unknown brand: %d", resp.StatusCode)
	}

	// Canned responses: a template that does not parse is refused.
	if resp, body := post(t, b, "/admin/canned", csrf, url.Values{"title": {"Hi"}, "body": {"Hi {{.FirstName"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "body") {
		t.Fatalf("bad template: %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/admin/canned", csrf, url.Values{"title": {"Hi"}, "body": {"Hi {{.FirstName}}!"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("canned: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM canned_responses WHERE title = 'Hi' AND brand_id IS NULL`); n != 1 {
		t.Fatal("the canned response is stored for every brand")
	}
}

// userID returns the id of the user with email.
func userID(t *testing.T, env *apptest.Env, email string) string {
	t.Helper()
	var id string
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAdminUpdatesUsers(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "admin")
	if _, err := env.Store.CreateBrand(context.Background(), store.BrandInput{Slug: "sky-eats", Name: "Sky Eats"}); err != nil {
		t.Fatal(err)
	}
	agent := userID(t, env, users["agent"])
	// Role, name and brands are stored.
	if resp, body := post(t, b, "/admin/users/"+agent, csrf, url.Values{"role": {"marketer"}, "name": {"Ana"}, "brand": {"demo-air", "sky-eats"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	if n := env.Count(t, `SELECT count(*) FROM users u JOIN user_brands ub ON ub.user_id = u.id WHERE u.id = $1 AND u.role = 'marketer' AND u.name = 'Ana' AND NOT u.disabled`, agent); n != 2 {
		t.Fatalf("the update is stored with both brands: %d rows", n)
	}
	if _, page := b.do(t, http.MethodGet, "/admin/users", nil); !strings.Contains(page, `value="sky-eats" checked`) {
		t.Fatal("the users page shows the brands a user is limited to")
	}
	// No brand ticked and not "every brand": no brand at all — an empty
	// list never grants everything.
	if resp, _ := post(t, b, "/admin/users/"+agent, csrf, url.Values{"role": {"agent"}, "name": {"Ana"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear brands: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM users u WHERE u.id = $1 AND NOT u.all_brands
		AND NOT EXISTS (SELECT 1 FROM user_brands ub WHERE ub.user_id = u.id)`, agent); n != 1 {
		t.Fatal("no brand ticked must mean no brand")
	}
	ids, err := env.Store.UserBrandIDs(context.Background(), mustID(t, agent))
	if err != nil || ids == nil || len(ids) != 0 {
		t.Fatalf("a user with no brand sees %v (%v), want nothing", ids, err)
	}
	// "Every brand" ticked: every brand, stored as such.
	if resp, _ := post(t, b, "/admin/users/"+agent, csrf, url.Values{"role": {"agent"}, "name": {"Ana"}, "all_brands": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("every brand: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE id = $1 AND all_brands`, agent); n != 1 {
		t.Fatal("every brand is not stored")
	}
	// Bad input changes nothing and names the field.
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"role": {"owner"}, "name": {"Eve"}}, "role"},
		{url.Values{"role": {"agent"}, "name": {"Eve"}, "brand": {"no-such-brand"}}, "brand"},
		{url.Values{"role": {"agent"}, "name": {strings.Repeat("x", 201)}}, "name"},
	} {
		if resp, body := post(t, b, "/admin/users/"+agent, csrf, c.form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.field+":") {
			t.Errorf("%v: %d, want 400 naming %s", c.form, resp.StatusCode, c.field)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE id = $1 AND role = 'agent' AND name = 'Ana'`, agent); n != 1 {
		t.Fatal("a refused update changed the user")
	}
	// An admin cannot disable themself: 400 naming the field, still enabled
	// and still signed in.
	me := userID(t, env, users["admin"])
	if resp, body := post(t, b, "/admin/users/"+me, csrf, url.Values{"role": {"admin"}, "disabled": {"1"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "disabled:") {
		t.Fatalf("self-disable: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE id = $1 AND NOT disabled`, me); n != 1 {
		t.Fatal("the admin disabled themself")
	}
	if resp, _ := b.do(t, http.MethodGet, "/admin/users", nil); resp.StatusCode != 200 {
		t.Fatalf("the admin was signed out: %d", resp.StatusCode)
	}
	// Unknown and malformed ids.
	for _, path := range []string{"/admin/users/999999", "/admin/users/abc"} {
		if resp, _ := post(t, b, path, csrf, url.Values{"role": {"agent"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestAdminBrandsAndNumbers(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "admin")
	// Update: stored; a brand's name is shown escaped.
	if resp, body := post(t, b, "/admin/brands/demo-air", csrf, url.Values{"name": {"Demo <b>Air</b>"}, "timezone": {"Europe/Paris"}, "help_text": {"Call 555"}, "sla_minutes": {"45"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	if n := env.Count(t, `SELECT count(*) FROM brands WHERE slug = 'demo-air' AND name = 'Demo <b>Air</b>' AND timezone = 'Europe/Paris' AND help_text = 'Call 555' AND sla_minutes = 45`); n != 1 {
		t.Fatal("the brand update is stored")
	}
	resp, page := b.do(t, http.MethodGet, "/admin/brands", nil)
	if resp.StatusCode != 200 || strings.Contains(page, "<b>Air</b>") || !strings.Contains(page, "Demo &lt;b&gt;Air&lt;/b&gt;") {
		t.Fatalf("brands page: %d, the name must be escaped", resp.StatusCode)
	}
	// Bad input: 400 naming the field, nothing changed.
	for _, c := range []struct {
		path  string
		form  url.Values
		field string
	}{
		{"/admin/brands/demo-air", url.Values{"name": {"X"}, "sla_minutes": {"0"}}, "sla_minutes"},
		{"/admin/brands/demo-air", url.Values{"name": {"X"}, "sla_minutes": {"soon"}}, "sla_minutes"},
		{"/admin/brands/demo-air", url.Values{"name": {" "}}, "name"},
		{"/admin/brands", url.Values{"slug": {"Bad Slug"}, "name": {"X"}}, "slug"},
		{"/admin/brands", url.Values{"slug": {"ok"}, "name": {"X"}, "help_text": {strings.Repeat("h", 1601)}}, "help_text"},
		{"/admin/brands/demo-air/numbers", url.Values{"number": {"+15005550012"}, "mps": {"0"}}, "mps"},
		{"/admin/brands/demo-air/numbers", url.Values{"number": {"+15005550012"}, "mps": {"10001"}}, "mps"},
		{"/admin/brands/demo-air/numbers", url.Values{"number": {"1234"}, "mps": {"5"}}, "number"},
	} {
		if resp, body := post(t, b, c.path, csrf, c.form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.field+":") {
			t.Errorf("%s %v: %d, want 400 naming %s", c.path, c.form, resp.StatusCode, c.field)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM brands WHERE slug = 'demo-air' AND name = 'Demo <b>Air</b>' AND sla_minutes = 45`) +
		env.Count(t, `SELECT count(*) FROM brands WHERE slug = 'ok'`)*10 + env.Count(t, `SELECT count(*) FROM brand_numbers WHERE number = '+15005550012'`)*100; n != 1 {
		t.Fatalf("refused input changed something (%d)", n)
	}
	// A created brand gets the default response target; a short code works;
	// a number of another brand is a conflict.
	if resp, body := post(t, b, "/admin/brands", csrf, url.Values{"slug": {"sky-eats"}, "name": {"Sky Eats"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if n := env.Count(t, `SELECT count(*) FROM brands WHERE slug = 'sky-eats' AND sla_minutes = 15 AND timezone = 'America/New_York'`); n != 1 {
		t.Fatal("a new brand's defaults")
	}
	if resp, _ := post(t, b, "/admin/brands/sky-eats/numbers", csrf, url.Values{"number": {"45678"}, "mps": {"100"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("short code: %d", resp.StatusCode)
	}
	if resp, body := post(t, b, "/admin/brands/sky-eats/numbers", csrf, url.Values{"number": {apptest.BrandNumber}, "mps": {"5"}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "number:") {
		t.Fatalf("another brand's number: %d", resp.StatusCode)
	}
	// Adding a number the brand owns changes its rate.
	if resp, _ := post(t, b, "/admin/brands/sky-eats/numbers", csrf, url.Values{"number": {"45678"}, "mps": {"7"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("re-rate: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM brand_numbers n JOIN brands b ON b.id = n.brand_id WHERE b.slug = 'sky-eats' AND n.number = '45678' AND n.mps = 7`); n != 1 {
		t.Fatal("the short code is stored with its new rate")
	}
	// Removing: only the owning brand's number; unknown brand or number: 404.
	if resp, _ := post(t, b, "/admin/brands/sky-eats/numbers/delete", csrf, url.Values{"number": {apptest.BrandNumber}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("removing another brand's number: %d, want 404", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/admin/brands/no-such/numbers/delete", csrf, url.Values{"number": {"45678"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown brand: %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/admin/brands/no-such", csrf, url.Values{"name": {"X"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("update unknown brand: %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/admin/brands/sky-eats/numbers/delete", csrf, url.Values{"number": {"45678"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM brand_numbers WHERE number IN ('45678', $1)`, apptest.BrandNumber); n != 1 {
		t.Fatal("only the removed number is gone")
	}
}

func TestAdminAPIKeyOnContacts(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "admin")
	resp, page := post(t, b, "/admin/api-keys", csrf, url.Values{"name": {"crm <sync>"}})
	m := regexp.MustCompile(`id="new-key">([^<]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create key: %d, shown %v, Cache-Control %q", resp.StatusCode, m != nil, resp.Header.Get("Cache-Control"))
	}
	key := m[1]
	if n := env.Count(t, `SELECT count(*) FROM api_keys WHERE name = 'crm <sync>' AND prefix = $1 AND revoked_at IS NULL AND last_used_at IS NULL`, key[:10]); n != 1 {
		t.Fatal("the key is stored by name and prefix")
	}
	if _, again := b.do(t, http.MethodGet, "/admin/api-keys", nil); strings.Contains(again, key) || !strings.Contains(again, "crm &lt;sync&gt;") {
		t.Fatal("the key is shown only once; its name is escaped")
	}
	api := func() int {
		req, _ := http.NewRequest(http.MethodGet, env.PublicURL+"/api/v1/contacts?phone=%2B12125550100", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := api(); code == http.StatusUnauthorized || code >= 500 {
		t.Fatalf("the console's key on GET /api/v1/contacts: %d", code)
	}
	if n := env.Count(t, `SELECT count(*) FROM api_keys WHERE name = 'crm <sync>' AND last_used_at IS NOT NULL`); n != 1 {
		t.Fatal("the key's use is recorded")
	}
	if resp, body := post(t, b, "/admin/api-keys", csrf, url.Values{"name": {"  "}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "name:") {
		t.Fatalf("nameless key: %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/admin/api-keys/999999/revoke", csrf, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("revoke unknown key: %d", resp.StatusCode)
	}
	var id string
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM api_keys WHERE name = 'crm <sync>'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := post(t, b, "/admin/api-keys/"+id+"/revoke", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if code := api(); code != http.StatusUnauthorized {
		t.Fatalf("a revoked key on the API: %d, want 401", code)
	}
	if n := env.Count(t, `SELECT count(*) FROM api_keys WHERE id = $1::bigint AND revoked_at IS NOT NULL`, id); n != 1 {
		t.Fatal("revocation is stored")
	}
}

func TestAdminCanned(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "admin")
	if resp, _ := post(t, b, "/admin/canned", csrf, url.Values{"title": {"Tier"}, "body": {"Hi {{.FirstName}}, as a {{.Attributes.tier}} member <you> get lounge access"}, "brand": {"demo-air"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	var id string
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM canned_responses WHERE title = 'Tier' AND brand_id = $1`, env.Brand.ID).Scan(&id); err != nil {
		t.Fatalf("the canned response is stored for demo-air: %v", err)
	}
	resp, page := b.do(t, http.MethodGet, "/admin/canned", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "&lt;you&gt;") || strings.Contains(page, "<you>") {
		t.Fatalf("canned page: %d, the body must be escaped", resp.StatusCode)
	}
	// The same title for the same brand, any case: 409. For every brand: fine.
	if resp, body := post(t, b, "/admin/canned", csrf, url.Values{"title": {"tier"}, "body": {"again"}, "brand": {"demo-air"}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "title:") {
		t.Fatalf("duplicate title: %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/admin/canned", csrf, url.Values{"title": {"Tier"}, "body": {"Hello"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same title for every brand: %d", resp.StatusCode)
	}
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"title": {"Bad"}, "body": {"Hi {{.Nickname}}"}}, "body"},
		{url.Values{"title": {"Bad"}, "body": {"Hi {{end}}"}}, "body"},
		{url.Values{"title": {"Bad"}, "body": {" "}}, "body"},
		{url.Values{"title": {""}, "body": {"Hi"}}, "title"},
		{url.Values{"title": {"Bad"}, "body": {"Hi"}, "brand": {"no-such"}}, "brand"},
	} {
		if resp, body := post(t, b, "/admin/canned", csrf, c.form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.field+":") {
			t.Errorf("%v: %d, want 400 naming %s", c.form, resp.StatusCode, c.field)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM canned_responses`); n != 2 {
		t.Fatalf("%d canned responses, want the 2 accepted", n)
	}
	if resp, _ := post(t, b, "/admin/canned/"+id+"/delete", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/admin/canned/"+id+"/delete", csrf, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("delete again: %d, want 404", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM canned_responses WHERE id = $1::bigint`, id); n != 0 {
		t.Fatal("the canned response is deleted")
	}
}

func TestAdminPagesRender(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "admin")
	for path, want := range map[string]string{
		"/admin/users": `action="/admin/users"`, "/admin/brands": `action="/admin/brands"`,
		"/admin/api-keys": `action="/admin/api-keys"`, "/admin/canned": `action="/admin/canned"`, "/account": `action="/account/password"`,
		"/admin/routing": `/settings"`, "/admin/merges": `<table>`,
	} {
		resp, page := b.do(t, http.MethodGet, path, nil)
		if resp.StatusCode != 200 || !strings.Contains(page, want) || !strings.Contains(page, `name="csrf_token" value="`+csrf+`"`) {
			t.Errorf("GET %s: %d, want a form posting to %s with the CSRF token", path, resp.StatusCode, want)
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, " style=") || strings.Contains(page, "onclick") {
			t.Errorf("GET %s has inline script or style, which the CSP forbids", path)
		}
	}
	// Without the CSRF token nothing is changed.
	if resp, _ := b.do(t, http.MethodPost, "/admin/brands", url.Values{"slug": {"x"}, "name": {"X"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without CSRF: %d", resp.StatusCode)
	}
}

// The admin page makes a key limited to brands and scopes: it works within
// them and is refused outside them.
func TestAdminAPIKeyWithBrandsAndScopes(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "admin")
	_, form := b.do(t, http.MethodGet, "/admin/api-keys", nil)
	if !strings.Contains(form, `name="scope" value="messages:send"`) || !strings.Contains(form, `name="brand" value="demo-air"`) {
		t.Fatal("the create form offers no brand or scope choices")
	}
	resp, page := post(t, b, "/admin/api-keys", csrf, url.Values{"name": {"reader"}, "brand": {"demo-air"},
		"scope": {"conversations:read"}, "rate": {"5"}})
	m := regexp.MustCompile(`id="new-key">([^<]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("create a limited key: %d", resp.StatusCode)
	}
	if !strings.Contains(page, "conversations:read") || !strings.Contains(page, "5/s") {
		t.Fatal("the key list does not show the key's scopes and rate")
	}
	call := func(method, path, body string) int {
		req, _ := http.NewRequest(method, env.PublicURL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m[1])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := call(http.MethodGet, "/api/v1/conversations?brand=demo-air", ""); code != http.StatusOK {
		t.Fatalf("within its scope and brand: %d", code)
	}
	if code := call(http.MethodPost, "/api/v1/messages", `{"brand":"demo-air","to":"+12125550100","body":"hi"}`); code != http.StatusForbidden {
		t.Fatalf("sending without messages:send: %d, want 403", code)
	}
	if resp, body := post(t, b, "/admin/api-keys", csrf, url.Values{"name": {"x"}, "scope": {"everything"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "scope:") {
		t.Fatalf("an unknown scope: %d", resp.StatusCode)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Removing a user's last brand, or deleting it, leaves them seeing no
// brand, never every brand.
func TestLastBrandGoneMeansNoBrand(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	sky, err := env.Store.CreateBrand(ctx, store.BrandInput{Slug: "sky-eats", Name: "Sky Eats"})
	if err != nil {
		t.Fatal(err)
	}
	agent := mustID(t, userID(t, env, users["agent"]))
	if err := env.Store.SetUserBrands(ctx, agent, false, []int64{sky.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Pool.Exec(ctx, `DELETE FROM brands WHERE id = $1`, sky.ID); err != nil {
		t.Fatal(err)
	}
	ids, err := env.Store.UserBrandIDs(ctx, agent)
	if err != nil || ids == nil || len(ids) != 0 {
		t.Fatalf("after its only brand was deleted the agent sees %v (%v), want no brand", ids, err)
	}
	b, _ := signedIn(t, env, users, "agent")
	text(t, env, "SM"+strings.Repeat("5", 32), "+12125550111", "for demo-air")
	if _, page := b.do(t, http.MethodGet, "/?status=any", nil); strings.Contains(page, "for demo-air") {
		t.Fatal("an agent with no brand sees demo-air's conversations")
	}
}
