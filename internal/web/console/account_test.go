package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

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
	resp, page := b.do(t, http.MethodGet, "/account", nil)
	if resp.StatusCode != 200 {
		t.Fatal("the browser that changed the password stays signed in (in a new session)")
	}
	if fresh := csrfOf(t, page); fresh == csrf {
		t.Fatal("the session was not rotated: its CSRF token is the old one")
	} else {
		csrf = fresh
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

func TestAccountPage(t *testing.T) {
	env, users := setup(t)
	// Every role has the account page, marketers (no inbox) included.
	b, csrf := signedIn(t, env, users, "marketer")
	resp, page := b.do(t, http.MethodGet, "/account", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `action="/account/password"`) || !strings.Contains(page, `name="csrf_token" value="`+csrf+`"`) {
		t.Fatalf("account page: %d\n%s", resp.StatusCode, page)
	}
	// A new password shorter than auth's minimum: 400 naming the field, the
	// old password still works.
	if resp, body := post(t, b, "/account/password", csrf, url.Values{"current_password": {"correct horse marketer"}, "new_password": {"short"}, "confirm_password": {"short"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "new_password") {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	if resp, body := post(t, b, "/account/password", csrf, url.Values{"new_password": {"a brand new secret"}, "confirm_password": {"a brand new secret"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "current_password") {
		t.Fatalf("missing current password: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, env).login(t, users["marketer"], "correct horse marketer"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("a refused change altered the password")
	}
}

func TestPresenceRedirectsAndJSON(t *testing.T) {
	env, users := setup(t)
	b, csrf := signedIn(t, env, users, "agent")
	send := func(presence, referer, accept string) *http.Response {
		form := url.Values{"presence": {presence}, "csrf_token": {csrf}}
		req, _ := http.NewRequest(http.MethodPost, env.PublicURL+"/account/presence", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	presence := func(want string) {
		t.Helper()
		if n := env.Count(t, `SELECT count(*) FROM users WHERE email = $1 AND presence = $2 AND presence_at IS NOT NULL`, users["agent"], want); n != 1 {
			t.Fatalf("presence is not %s", want)
		}
	}
	if resp := send("away", "", "application/json"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("fetch: %d, want 204", resp.StatusCode)
	}
	presence("away")
	if resp := send("online", env.PublicURL+"/account?x=1", ""); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account?x=1" {
		t.Fatalf("same-site referer: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	presence("online")
	if resp := send("offline", "https://evil.example/phish", ""); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("foreign referer: %d %q, want /", resp.StatusCode, resp.Header.Get("Location"))
	}
	presence("offline")
	if resp := send("invisible", "", "application/json"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad presence: %d", resp.StatusCode)
	}
	presence("offline")
	// The header shows the stored presence.
	if _, page := b.do(t, http.MethodGet, "/account", nil); !strings.Contains(page, `value="offline" selected`) {
		t.Fatal("the page does not show the stored presence")
	}
}
