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
	"github.com/parleyhq/parley/internal/automation"
)

// An admin edits business hours and auto-replies in the console; a bad
// value is shown naming the field and changes nothing; agents cannot.
func TestRoutingPage(t *testing.T) {
	env, users := setup(t)
	ab, csrf := signedIn(t, env, users, "admin")
	slug := env.Brand.Slug
	if resp, page := ab.do(t, http.MethodGet, "/admin/routing", nil); resp.StatusCode != http.StatusOK || !strings.Contains(page, "No auto-reply yet") {
		t.Fatalf("routing page: %d", resp.StatusCode)
	}
	form := url.Values{"timezone": {"America/New_York"}, "has_hours": {"1"}, "hours_mon": {"09:00-12:00, 14:00-18:00"},
		"hours_tue": {"25:00-26:00"}, "assignment": {"sticky_round_robin"}, "first_response_minutes": {"15"},
		"auto_reply_limit_per_hour": {"3"}, "holidays": {"2026-12-25 closed Christmas\n2026-12-24 09:00-13:00 Christmas Eve"},
		"after_hours_reply": {"Closed; back {{.Opens}}."}, "tier_priority": {"gold=2, silver=1"}}
	resp, body := post(t, ab, "/admin/routing/"+slug+"/settings", csrf, form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "business_hours.tue[0]") {
		t.Fatalf("a bad time: %d, want 400 naming business_hours.tue[0]", resp.StatusCode)
	}
	svc := automation.NewService(env.Store, nil)
	doc, err := svc.Settings(context.Background(), env.Brand)
	if err != nil {
		t.Fatal(err)
	}
	if doc.BusinessHours != nil || doc.Assignment != "manual" {
		t.Fatalf("a refused form changed the settings: %+v", doc)
	}
	form.Set("hours_tue", "09:00-17:00")
	resp, _ = post(t, ab, "/admin/routing/"+slug+"/settings", csrf, form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: %d", resp.StatusCode)
	}
	if doc, err = svc.Settings(context.Background(), env.Brand); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(doc.BusinessHours["mon"]) != "[[09:00 12:00] [14:00 18:00]]" || len(doc.BusinessHours["wed"]) != 0 ||
		doc.Assignment != "sticky_round_robin" || len(doc.Holidays) != 2 || doc.Holidays[1].Name != "Christmas Eve" ||
		doc.TierPriority["gold"] != 2 || doc.FirstResponseSLASeconds != 900 {
		t.Fatalf("saved settings %+v", doc)
	}
	_, page := ab.do(t, http.MethodGet, "/admin/routing?brand="+slug, nil)
	if !strings.Contains(page, `value="09:00-12:00, 14:00-18:00"`) || !strings.Contains(page, "2026-12-24 09:00-13:00 Christmas Eve") {
		t.Fatal("the page does not show the saved schedule")
	}

	resp, body = post(t, ab, "/admin/routing/"+slug+"/rules", csrf, url.Values{"match": {"regex"}, "pattern": {"(unclosed"}, "reply": {"x"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "pattern") {
		t.Fatalf("a bad regex: %d", resp.StatusCode)
	}
	resp, _ = post(t, ab, "/admin/routing/"+slug+"/rules", csrf, url.Values{"match": {"first_word"}, "pattern": {"hours"},
		"reply": {"We open at 9."}, "hand_to_agent": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add rule: %d", resp.StatusCode)
	}
	rules, err := svc.Rules(context.Background(), env.Brand.ID, 0, 0, 0)
	if err != nil || len(rules) != 1 || rules[0].Pattern != "hours" || !rules[0].HandToAgent {
		t.Fatalf("rules %+v %v", rules, err)
	}
	resp, _ = post(t, ab, fmt.Sprintf("/admin/routing/%s/rules/%d", slug, rules[0].ID), csrf, url.Values{"position": {"1"},
		"match": {"exact"}, "pattern": {"opening hours"}, "reply": {"9 to 5"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update rule: %d", resp.StatusCode)
	}
	if r, _ := svc.Rule(context.Background(), env.Brand.ID, rules[0].ID); r.Match != "exact" || r.HandToAgent {
		t.Fatalf("updated rule %+v", r)
	}
	agent, acsrf := signedIn(t, env, users, "agent")
	if resp, _ := post(t, agent, fmt.Sprintf("/admin/routing/%s/rules/%d/delete", slug, rules[0].ID), acsrf, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent deleted a rule: %d", resp.StatusCode)
	}
	resp, _ = post(t, ab, fmt.Sprintf("/admin/routing/%s/rules/%d/delete", slug, rules[0].ID), csrf, nil)
	if resp.StatusCode != http.StatusSeeOther || env.Count(t, `SELECT count(*) FROM auto_replies`) != 0 {
		t.Fatalf("delete rule: %d", resp.StatusCode)
	}
}

// A customer the brand ranks (tier_priority) is flagged as a power user in
// the inbox, with the priority; one of an unranked tier is not.
func TestInboxFlagsRankedCustomers(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	if _, err := automation.NewService(env.Store, env.App.Routing).PutSettings(ctx, env.Brand, []byte(`{"tier_priority": {"silver": 1}}`)); err != nil {
		t.Fatal(err)
	}
	ranked := text(t, env, "SM00000000000000000000000000000c01", "+12125550701", "Hello")
	plain := text(t, env, "SM00000000000000000000000000000c02", "+12125550702", "Hello")
	if _, err := env.Store.Pool.Exec(ctx, `UPDATE contacts SET attributes = jsonb_build_object('tier', CASE c.id WHEN $1 THEN 'silver' ELSE 'bronze' END)
		FROM conversations c WHERE c.contact_id = contacts.id AND c.id IN ($1, $2)`, ranked, plain); err != nil {
		t.Fatal(err)
	}
	ab, _ := signedIn(t, env, users, "agent")
	apptest.WaitFor(t, 5*time.Second, "the brand's ranks loaded", func() bool {
		_, page := ab.do(t, http.MethodGet, "/", nil)
		return strings.Count(page, "★ power user") == 1
	})
	_, page := ab.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", ranked), nil)
	if !strings.Contains(page, `title="power user, priority 1"`) {
		t.Fatal("the ranked customer's conversation is not flagged with its priority")
	}
	if _, page := ab.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", plain), nil); strings.Contains(page, "★ power user") {
		t.Fatal("an unranked customer is flagged")
	}
}
