package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/api"
)

// counts is what a refused request must leave as it was.
func (b *bundle) rowCounts(t *testing.T) string {
	t.Helper()
	var c, e, m, cv, segs, events int
	var rules, settings, campaigns, triggers string
	if err := b.st.Pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM consent_events),
		(SELECT count(*) FROM messages), (SELECT count(*) FROM conversations),
		(SELECT coalesce(string_agg(a::text, ';' ORDER BY id), '') FROM auto_replies a),
		(SELECT coalesce(string_agg(s.settings::text, ';' ORDER BY brand_id), '') FROM brand_settings s),
		(SELECT coalesce(string_agg(id || ' ' || state || ' ' || coalesce(scheduled_at::text, ''), ';' ORDER BY id), '') FROM campaigns),
		(SELECT count(*) FROM segments), (SELECT count(*) FROM events),
		(SELECT coalesce(string_agg(id || ' ' || updated_at::text || ' ' || coalesce(deleted_at::text, ''), ';' ORDER BY id), '') FROM triggers)`).Scan(
		&c, &e, &m, &cv, &rules, &settings, &campaigns, &segs, &events, &triggers); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("contacts %d, consent %d, messages %d, conversations %d, auto-replies %s, settings %s, campaigns %s, segments %d, "+
		"events %d, triggers %s", c, e, m, cv, rules, settings, campaigns, segs, events, triggers)
}

func (b *bundle) keyWith(t *testing.T, key string, a store.KeyAccess) string {
	t.Helper()
	if _, err := b.st.CreateAPIKeyWith(b.ctx, key, key, a); err != nil {
		t.Fatal(err)
	}
	return "Bearer " + key
}

type routeCase struct {
	method, route, path string
	body                any
	brandSpecific       bool // it touches demohotel, so a demoair key is refused
}

// Every API route, walked with a key lacking the route's scope and with a
// key limited to another brand: 403 naming what is missing, and nothing
// changes. A route added without a case here fails the test.
func TestEveryRouteChecksScopeAndBrand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phone = "+12125550777"
	res, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{SID: "SM77777777777777777777777777777777", BrandID: b.hotel.ID,
		From: phone, To: "+15005550007", Body: "hello hotel", ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	hotelConv, hotelMsg := res[0].ConversationID, res[0].MessageID
	if _, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{SID: "SM77777777777777777777777777777778", BrandID: b.air.ID,
		From: phone, To: "+15005550006", Body: "hello air", ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7"}}); err != nil {
		t.Fatal(err)
	}
	rule, err := b.st.SaveAutoReply(b.ctx, store.AutoReply{BrandID: b.hotel.ID, Match: "exact", Pattern: "hours", Reply: "9 to 5"})
	if err != nil {
		t.Fatal(err)
	}
	rulePath := fmt.Sprintf("/api/v1/brands/demohotel/auto-replies/%d", rule.ID)
	cp, err := b.st.CreateCampaign(b.ctx, store.Campaign{BrandID: b.hotel.ID, Name: "Spring", Variants: []string{"Hi {{.FirstName}}"}})
	if err != nil {
		t.Fatal(err)
	}
	running, err := b.st.CreateCampaign(b.ctx, store.Campaign{BrandID: b.hotel.ID, Name: "Running", Variants: []string{"Hello"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE campaigns SET state = 'running' WHERE id = $1`, running.ID); err != nil {
		t.Fatal(err)
	}
	paused, err := b.st.CreateCampaign(b.ctx, store.Campaign{BrandID: b.hotel.ID, Name: "Paused", Variants: []string{"Hello"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE campaigns SET state = 'paused', started_at = now() WHERE id = $1`, paused.ID); err != nil {
		t.Fatal(err)
	}
	seg, err := b.st.CreateSegment(b.ctx, store.Segment{BrandID: b.hotel.ID, Name: "Gold", Filter: []byte(`{"tiers": ["gold"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	importID, err := b.st.CreateImport(b.ctx, b.hotel.ID, "x.csv", "test")
	if err != nil {
		t.Fatal(err)
	}
	trig, err := b.st.SaveTrigger(b.ctx, store.Trigger{BrandID: b.hotel.ID, EventType: "stay_completed", Enabled: true,
		Spec: []byte(`{"brand": "demohotel", "event_type": "stay_completed", "delay": "0s", "template": "How was your stay?", "purpose": "conversational",
			"question": {"kind": "rating"}}`), Question: &store.Question{Kind: "rating", Scale: 5, Window: 48 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	newTrigger := map[string]any{"brand": "demohotel", "event_type": "checked_in", "delay": "0s", "template": "Welcome", "purpose": "conversational"}
	event := map[string]any{"brand": "demohotel", "type": "stay_completed", "phone": phone}
	triggerPath := func(tail string) string { return fmt.Sprintf("/api/v1/triggers/%d%s", trig.ID, tail) }
	campaignPath := func(id int64, tail string) string { return fmt.Sprintf("/api/v1/campaigns/%d%s", id, tail) }
	newRule := map[string]any{"match": "contains", "pattern": "menu", "reply": "Our menu: …"}
	cases := []routeCase{
		{"GET", "/api/v1/me", "/api/v1/me", nil, false},
		{"GET", "/api/v1/brands/:slug/settings", "/api/v1/brands/demohotel/settings", nil, true},
		{"PUT", "/api/v1/brands/:slug/settings", "/api/v1/brands/demohotel/settings", map[string]any{"assignment": "sticky_round_robin"}, true},
		{"GET", "/api/v1/brands/:slug/auto-replies", "/api/v1/brands/demohotel/auto-replies", nil, true},
		{"POST", "/api/v1/brands/:slug/auto-replies", "/api/v1/brands/demohotel/auto-replies", newRule, true},
		{"PUT", "/api/v1/brands/:slug/auto-replies/:id", rulePath, newRule, true},
		{"DELETE", "/api/v1/brands/:slug/auto-replies/:id", rulePath, nil, true},
		{"GET", "/api/v1/contacts", "/api/v1/contacts?phone=" + strings.ReplaceAll(phone, "+", "%2B"), nil, false},
		{"PUT", "/api/v1/contacts", "/api/v1/contacts", map[string]any{"phones": []string{phone}, "name": "Changed",
			"consent": []map[string]string{{"brand": "demohotel", "purpose": "marketing", "status": "opted_in", "source": "api", "evidence": "x"}}}, true},
		{"GET", "/api/v1/consent", "/api/v1/consent?brand=demohotel&phone=" + strings.ReplaceAll(phone, "+", "%2B"), nil, true},
		{"GET", "/api/v1/conversations", "/api/v1/conversations?brand=demohotel", nil, true},
		{"GET", "/api/v1/conversations/:id/messages", fmt.Sprintf("/api/v1/conversations/%d/messages", hotelConv), nil, true},
		{"POST", "/api/v1/messages", "/api/v1/messages", map[string]any{"brand": "demohotel", "to": phone, "body": "hi"}, true},
		{"GET", "/api/v1/messages/:id", fmt.Sprintf("/api/v1/messages/%d", hotelMsg), nil, true},
		{"POST", "/api/v1/contacts/import", "/api/v1/contacts/import?brand=demohotel", "phone\n" + phone + "\n", true},
		{"GET", "/api/v1/contacts/import/:id", fmt.Sprintf("/api/v1/contacts/import/%d", importID), nil, true},
		{"GET", "/api/v1/contacts/export", "/api/v1/contacts/export?brand=demohotel", nil, true},
		{"GET", "/api/v1/consent/export", "/api/v1/consent/export?brand=demohotel", nil, true},
		{"POST", "/api/v1/campaigns", "/api/v1/campaigns", map[string]any{"brand": "demohotel", "name": "New", "body": "Hi"}, true},
		{"GET", "/api/v1/campaigns", "/api/v1/campaigns?brand=demohotel", nil, true},
		{"GET", "/api/v1/campaigns/:id", campaignPath(cp.ID, ""), nil, true},
		{"POST", "/api/v1/campaigns/:id/estimate", campaignPath(cp.ID, "/estimate"), map[string]any{}, true},
		{"POST", "/api/v1/campaigns/:id/schedule", campaignPath(cp.ID, "/schedule"), map[string]any{}, true},
		{"POST", "/api/v1/campaigns/:id/pause", campaignPath(running.ID, "/pause"), nil, true},
		{"POST", "/api/v1/campaigns/:id/resume", campaignPath(paused.ID, "/resume"), nil, true},
		{"POST", "/api/v1/campaigns/:id/cancel", campaignPath(running.ID, "/cancel"), nil, true},
		{"GET", "/api/v1/campaigns/:id/recipients", campaignPath(cp.ID, "/recipients"), nil, true},
		{"POST", "/api/v1/campaigns/:id/preview", campaignPath(cp.ID, "/preview"), map[string]any{"phone": phone}, true},
		{"POST", "/api/v1/campaigns/:id/test", campaignPath(cp.ID, "/test"), map[string]any{"phone": phone}, true},
		{"POST", "/api/v1/segments", "/api/v1/segments", map[string]any{"brand": "demohotel", "name": "Silver", "filter": map[string]any{}}, true},
		{"GET", "/api/v1/segments", "/api/v1/segments?brand=demohotel", nil, true},
		{"GET", "/api/v1/segments/:id", fmt.Sprintf("/api/v1/segments/%d", seg.ID), nil, true},
		{"POST", "/api/v1/events", "/api/v1/events", event, true},
		{"POST", `/api/v1/events\:batch`, "/api/v1/events:batch", map[string]any{"brand": "demohotel", "events": []any{event}}, true},
		{"POST", "/api/v1/triggers", "/api/v1/triggers", newTrigger, true},
		{"GET", "/api/v1/triggers", "/api/v1/triggers?brand=demohotel", nil, true},
		{"GET", "/api/v1/triggers/:id", triggerPath(""), nil, true},
		{"PUT", "/api/v1/triggers/:id", triggerPath(""), newTrigger, true},
		{"DELETE", "/api/v1/triggers/:id", triggerPath(""), nil, true},
		{"GET", "/api/v1/triggers/:id/runs", triggerPath("/runs"), nil, true},
		{"POST", "/api/v1/triggers/:id/test", triggerPath("/test"), map[string]any{"phone": phone}, true},
		{"GET", "/api/v1/questions/:id/results", fmt.Sprintf("/api/v1/questions/%d/results", trig.QuestionID), nil, true},
		{"GET", "/api/v1/contacts/:id/answers", fmt.Sprintf("/api/v1/contacts/%d/answers", res[0].ContactID), nil, false},
		// analytics cases
		{"GET", "/api/v1/analytics/volume", "/api/v1/analytics/volume?brand=demohotel&from=2026-11-01&to=2026-11-02", nil, true},
		{"GET", "/api/v1/analytics/response-times", "/api/v1/analytics/response-times?brand=demohotel&from=2026-11-01&to=2026-11-02", nil, true},
		{"GET", "/api/v1/analytics/delivery", "/api/v1/analytics/delivery?brand=demohotel&from=2026-11-01&to=2026-11-02", nil, true},
		{"GET", "/api/v1/analytics/consent", "/api/v1/analytics/consent?brand=demohotel&from=2026-11-01&to=2026-11-02", nil, true},
		{"GET", "/api/v1/analytics/relationship", "/api/v1/analytics/relationship?brand=demohotel&from=2026-11-01&to=2026-11-02", nil, true},
		{"GET", "/api/v1/analytics/campaigns", "/api/v1/analytics/campaigns?brand=demohotel&from=2026-11-01&to=2026-11-02", nil, true},
		{"GET", "/api/v1/analytics/topics", "/api/v1/analytics/topics?brand=demohotel&from=2026-11-01&to=2026-11-02", nil, true},
		{"GET", "/api/v1/analytics/conversations.csv", "/api/v1/analytics/conversations.csv?brand=demohotel&from=2026-11-01&to=2026-11-02", nil, true},
		// webhook cases
		{"GET", "/api/v1/webhooks", "/api/v1/webhooks?brand=demohotel", nil, true},
		{"POST", "/api/v1/webhooks", "/api/v1/webhooks", map[string]any{"brand": "demohotel", "url": "https://hooks.example.com/parley",
			"events": []string{"message.received"}}, true},
		{"DELETE", "/api/v1/webhooks/:id", b.webhookPath(t, ""), nil, true},
		{"GET", "/api/v1/webhooks/:id/deliveries", b.webhookPath(t, "/deliveries"), nil, true},
		{"POST", "/api/v1/webhooks/:id/test", b.webhookPath(t, "/test"), nil, true},
		// audit cases
		{"GET", "/api/v1/audit", "/api/v1/audit", nil, false},
	}
	var served []string
	for _, r := range b.e.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") && r.Path != "/api/v1/openapi.json" && !strings.HasSuffix(r.Path, "/*") {
			served = append(served, r.Method+" "+r.Path)
		}
	}
	for _, rt := range served {
		if !slices.ContainsFunc(cases, func(c routeCase) bool { return c.method+" "+c.route == rt }) {
			t.Errorf("%s has no case in this test", rt)
		}
		if _, ok := api.Scopes[rt]; !ok {
			t.Errorf("%s declares no scope in api.Scopes", rt)
		}
	}

	before := b.rowCounts(t)
	for _, c := range cases {
		scope := api.Scopes[c.method+" "+c.route]
		if scope == "" {
			continue
		}
		var others []string
		for _, s := range auth.Scopes {
			if s != scope {
				others = append(others, string(s))
			}
		}
		key := b.keyWith(t, "pk_noscope_"+strings.NewReplacer("/", "_", ":", "_", " ", "_").Replace(c.method+c.route),
			store.KeyAccess{AllBrands: true, Scopes: others, Rate: 1000})
		r := b.callAs(t, key, c.method, c.path, c.body)
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), `"forbidden"`) || !strings.Contains(string(r.Body), string(scope)) {
			t.Errorf("%s %s without %s: %d %s, want 403 forbidden naming the scope", c.method, c.path, scope, r.Status, r.Body)
		}
	}
	airOnly := b.keyWith(t, "pk_aironly_0123456789", store.KeyAccess{BrandIDs: []int64{b.air.ID}, AllScopes: true, Rate: 1000})
	for _, c := range cases {
		if !c.brandSpecific {
			continue
		}
		r := b.callAs(t, airOnly, c.method, c.path, c.body)
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), `"forbidden"`) {
			t.Errorf("%s %s with a demoair key: %d %s, want 403 forbidden", c.method, c.path, r.Status, r.Body)
		}
	}
	if after := b.rowCounts(t); after != before {
		t.Fatalf("refused requests changed something: %s, then %s", before, after)
	}

	// A list only ever holds the key's brands.
	var list struct {
		Data []struct {
			Brand string `json:"brand"`
		} `json:"data"`
	}
	b.callAs(t, airOnly, http.MethodGet, "/api/v1/conversations", nil).decode(t, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].Brand != "demoair" {
		t.Fatalf("a demoair key lists %+v, want only the demoair conversation", list.Data)
	}
	none := b.keyWith(t, "pk_nobrand_0123456789", store.KeyAccess{BrandIDs: []int64{}, AllScopes: true, Rate: 1000})
	b.callAs(t, none, http.MethodGet, "/api/v1/conversations", nil).decode(t, http.StatusOK, &list)
	if len(list.Data) != 0 {
		t.Fatalf("a key with no brand lists %+v, want nothing (an empty list is never every brand)", list.Data)
	}
	var me struct {
		Data struct {
			Name      string   `json:"name"`
			AllBrands bool     `json:"all_brands"`
			Brands    []string `json:"brands"`
			Scopes    []string `json:"scopes"`
		} `json:"data"`
	}
	b.callAs(t, airOnly, http.MethodGet, "/api/v1/me", nil).decode(t, http.StatusOK, &me)
	if me.Data.Name != "pk_aironly_0123456789" || me.Data.AllBrands || !slices.Equal(me.Data.Brands, []string{"demoair"}) || len(me.Data.Scopes) != len(auth.Scopes) {
		t.Fatalf("GET /me: %+v", me.Data)
	}
}
