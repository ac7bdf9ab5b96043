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
	// A preview for one person, and a test send (only to an opted-in phone).
	_, page = mb.do(t, http.MethodGet, path+"?preview="+url.QueryEscape("(212) 555-0800"), nil)
	if !strings.Contains(page, "would get it now") || !strings.Contains(page, "Hi Ana, spring is here") {
		t.Fatalf("the preview is not shown:\n%s", page)
	}
	if _, page = mb.do(t, http.MethodGet, path+"?preview=%2B12125550802", nil); !strings.Contains(page, "excluded: opted out") {
		t.Fatalf("the opted-out preview:\n%s", page)
	}
	if resp, _ := post(t, mb, path+"/test", csrf, url.Values{"phone": {"+12125550800"}, "variant": {"0"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("test send: %d", resp.StatusCode)
	}
	if resp, body := post(t, mb, path+"/test", csrf, url.Values{"phone": {"+12125550802"}, "variant": {"0"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "may not be sent") {
		t.Fatalf("test send to an opted-out phone: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE origin = 'campaign_test'`); n != 1 {
		t.Fatalf("%d test texts, want 1", n)
	}
	resp, body := post(t, mb, "/campaigns/audience-count", csrf, url.Values{"brand": {env.Brand.Slug}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"eligible":2`) || !strings.Contains(body, `"opted_out":1`) {
		t.Fatalf("audience count: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(t, mb, "/campaigns/audience-count", csrf, url.Values{"brand": {env.Brand.Slug}, "conditions": {"points >= lots"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad condition counted: %d", resp.StatusCode)
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

// A campaign text and the customer's answer to it are marked with the
// campaign in the conversation: the agent sees what the customer answers.
func TestCampaignReplyTaggedInConversation(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	conv := text(t, env, "SM"+strings.Repeat("7", 32), "+12125550811", "hello")
	var cid int64
	if err := env.Store.Pool.QueryRow(ctx, `INSERT INTO campaigns (brand_id, name, variants, state) VALUES ($1, 'Paella night', '["Paella is back"]', 'completed') RETURNING id`,
		env.Brand.ID).Scan(&cid); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Pool.Exec(ctx, `INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, purpose, origin, origin_ref, queue, segments, encoding)
		SELECT $1, $2, 'outbound', 'Paella is back', $3, '+12125550811', 'delivered', 'marketing', 'campaign', $4, 'bulk', 1, 'GSM-7'`,
		conv, env.Brand.ID, env.Brand.Numbers[0].Number, fmt.Sprint(cid)); err != nil {
		t.Fatal(err)
	}
	text(t, env, "SM"+strings.Repeat("8", 32), "+12125550811", "Yes! Table for two")
	ab, _ := signedIn(t, env, users, "agent")
	_, page := ab.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", conv), nil)
	if n := strings.Count(page, `class="tag campaign-tag"`); n != 2 {
		t.Fatalf("%d campaign marks, want the text's and the reply's:\n%s", n, page)
	}
	if !strings.Contains(page, "reply to campaign Paella night") || strings.Contains(page, `href="/campaigns/`) {
		t.Errorf("the reply is not marked for the agent (without a link they cannot open)")
	}
	adm, _ := signedIn(t, env, users, "admin")
	if _, page := adm.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", conv), nil); !strings.Contains(page, fmt.Sprintf(`<a href="/campaigns/%d">Paella night</a>`, cid)) {
		t.Errorf("an admin gets no link to the campaign")
	}
}
