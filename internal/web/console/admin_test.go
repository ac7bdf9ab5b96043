package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
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

func TestAccountPasswordAndPresence(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "agent")
	other, _ := signedIn(t, env, users, "agent")
	if resp, body := post(t, b, "/account/password", csrf, url.Values{"current_password": {"wrong"}, "new_password": {"a brand new secret"}, "confirm_password": {"a brand new secret"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "current_password") {
		t.Fatalf("wrong current password: %d", resp.StatusCode)
	}
	if resp, body := post(t, b, "/account/password", csrf, url.Values{"current_password": {"correct horse agent"}, "new_password": {"a brand new secret"}, "confirm_password": {"typo"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "confirm_password") {
		t.Fatalf("mismatch: %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/account/password", csrf, url.Values{"current_password": {"correct horse agent"}, "new_password": {"a brand new secret"}, "confirm_password": {"a brand new secret"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if resp, _ := other.do(t, http.MethodGet, "/", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("the user's other session must be signed out")
	}
	if resp, _ := b.do(t, http.MethodGet, "/", nil); resp.StatusCode != 200 {
		t.Fatal("the session that changed the password stays")
	}
	if resp, _ := newBrowser(t, env).login(t, users["agent"], "correct horse agent"); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("the old password still works")
	}
	if resp, _ := newBrowser(t, env).login(t, users["agent"], "a brand new secret"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("the new password does not work")
	}
	if resp, _ := post(t, b, "/account/presence", csrf, url.Values{"presence": {"busy"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad presence: %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, "/account/presence", csrf, url.Values{"presence": {"online"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("presence: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE email = $1 AND presence = 'online'`, users["agent"]); n != 1 {
		t.Fatal("presence not stored")
	}
}
