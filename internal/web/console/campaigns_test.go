package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A marketer lands on the campaigns page, saves a draft (a bad template is
// refused naming the field and saves nothing), sees its estimate, and
// schedules, pauses and cancels it; an agent cannot see the pages.
func TestCampaignPages(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	for i, status := range []string{"opted_in", "opted_in", "opted_out"} {
		phone := fmt.Sprintf("+1212555080%d", i)
		var id int64
		if err := env.Store.Pool.QueryRow(ctx, `INSERT INTO contacts (name) VALUES ('Ana') RETURNING id`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Store.Pool.Exec(ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2);`, phone, id); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Store.Pool.Exec(ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source) VALUES ($1, $2, 'marketing', $3, 'import')`,
			env.Brand.ID, phone, status); err != nil {
			t.Fatal(err)
		}
	}
	mb := newBrowser(t, env)
	if resp, _ := mb.login(t, users["marketer"], "correct horse marketer"); resp.Header.Get("Location") != "/campaigns" {
		t.Fatalf("a marketer signs in to %q, want /campaigns", resp.Header.Get("Location"))
	}
	resp, page := mb.do(t, http.MethodGet, "/campaigns", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "No campaign yet") {
		t.Fatalf("campaigns page: %d", resp.StatusCode)
	}
	csrf := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page)[1]
	form := url.Values{"brand": {env.Brand.Slug}, "name": {"Spring"}, "body1": {"Hi {{.FirstName"}, "conditions": {"city = Paris"}}
	if resp, body := post(t, mb, "/campaigns", csrf, form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "body") {
		t.Fatalf("a bad template: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM campaigns`); n != 0 {
		t.Fatal("a refused form saved a campaign")
	}
	form.Set("body1", "Hi {{default \"there\" .FirstName}}, spring is here")
	form.Set("conditions", "")
	resp, _ = post(t, mb, "/campaigns", csrf, form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/campaigns/") {
		t.Fatalf("save: %d %s", resp.StatusCode, loc)
	}
	path, _, _ := strings.Cut(loc, "?")
	_, page = mb.do(t, http.MethodGet, path, nil)
	if !strings.Contains(page, "<strong>2</strong> recipients") || !strings.Contains(page, "1 opted out") {
		t.Fatalf("the estimate is not shown:\n%s", page)
	}
	if resp, _ := post(t, mb, path+"/schedule", csrf, url.Values{"at": {"2099-01-01T10:00"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("schedule: %d", resp.StatusCode)
	}
	if resp, _ := post(t, mb, path+"/pause", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pause: %d", resp.StatusCode)
	}
	if resp, _ := post(t, mb, path+"/pause", csrf, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("pausing a paused campaign: %d, want 409", resp.StatusCode)
	}
	if resp, _ := post(t, mb, path+"/cancel", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM campaigns WHERE state = 'canceled'`); n != 1 {
		t.Fatal("the campaign is not canceled")
	}
	ab, _ := signedIn(t, env, users, "agent")
	if resp, _ := ab.do(t, http.MethodGet, path, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent on a campaign page: %d, want 403", resp.StatusCode)
	}
}
