package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/store"
)

// The other half of the object-level checks (TestEveryRouteChecksScopeAndBrand
// refuses every route naming another brand's object): a list read with a
// key of one brand, without naming a brand, holds nothing of another
// brand's, and naming the other brand is refused. Every GET route that
// names no object needs a case here.
func TestSecurityAPIListsHoldOnlyTheKeysBrands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const secret = "HOTELSECRET"
	res := b.text(t, b.hotel, "+12125550188", "hello "+secret, time.Now())
	if _, err := b.st.CreateCampaign(b.ctx, store.Campaign{BrandID: b.hotel.ID, Name: secret + " campaign", Variants: []string{"Hi"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.CreateSegment(b.ctx, store.Segment{BrandID: b.hotel.ID, Name: secret + " segment", Filter: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.SaveTrigger(b.ctx, store.Trigger{BrandID: b.hotel.ID, Name: secret + " trigger", EventType: "stay_completed", Enabled: true,
		Spec: []byte(`{"brand": "demohotel", "event_type": "stay_completed", "delay": "0s", "template": "Hi", "purpose": "conversational"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.CreateWebhook(b.ctx, b.hotel.ID, "https://hooks.example.com/"+secret, []string{hooks.MessageReceived}, "whsec_test"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `INSERT INTO audit_log (actor_type, actor, action, target, brand_id) VALUES
		('user', 'someone@hotel.example', 'reply', $1, $2), ('system', 'parley', 'settings', $1, NULL)`, secret, b.hotel.ID); err != nil {
		t.Fatal(err)
	}
	air := b.keyWith(t, "pk_security_lists_air", store.KeyAccess{BrandIDs: []int64{b.air.ID}, AllScopes: true, Rate: 1000})
	period := "from=2026-11-01&to=2026-11-07"
	cases := map[string]string{ // route → the path to read; "" exempt (see the reason beside it)
		"/api/v1/me":                          "/api/v1/me",
		"/api/v1/contacts":                    "", // the loyalty program's people, shared by every brand (README, JSON API)
		"/api/v1/consent":                     "/api/v1/consent?brand=demohotel&phone=%2B12125550188",
		"/api/v1/conversations":               "/api/v1/conversations",
		"/api/v1/contacts/export":             "/api/v1/contacts/export?brand=demohotel",
		"/api/v1/consent/export":              "/api/v1/consent/export?brand=demohotel",
		"/api/v1/campaigns":                   "/api/v1/campaigns",
		"/api/v1/segments":                    "/api/v1/segments",
		"/api/v1/triggers":                    "/api/v1/triggers",
		"/api/v1/webhooks":                    "/api/v1/webhooks",
		"/api/v1/audit":                       "/api/v1/audit",
		"/api/v1/analytics/volume":            "/api/v1/analytics/volume?brand=demohotel&" + period,
		"/api/v1/analytics/response-times":    "/api/v1/analytics/response-times?brand=demohotel&" + period,
		"/api/v1/analytics/delivery":          "/api/v1/analytics/delivery?brand=demohotel&" + period,
		"/api/v1/analytics/consent":           "/api/v1/analytics/consent?brand=demohotel&" + period,
		"/api/v1/analytics/relationship":      "/api/v1/analytics/relationship?brand=demohotel&" + period,
		"/api/v1/analytics/campaigns":         "/api/v1/analytics/campaigns?brand=demohotel&" + period,
		"/api/v1/analytics/topics":            "/api/v1/analytics/topics?brand=demohotel&" + period,
		"/api/v1/analytics/conversations.csv": "/api/v1/analytics/conversations.csv?brand=demohotel&" + period,
		"/api/v1/openapi.json":                "", // the public API description
	}
	for _, r := range b.e.Routes() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/api/v1/") || strings.Contains(r.Path, ":") || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		p, ok := cases[r.Path]
		if !ok {
			t.Errorf("GET %s has no case in this test", r.Path)
			continue
		}
		if p == "" {
			continue
		}
		resp := b.callAs(t, air, http.MethodGet, p, nil)
		switch {
		case strings.Contains(p, "brand=demohotel"):
			if resp.Status != http.StatusForbidden {
				t.Errorf("GET %s with a demoair key: %d, want 403", p, resp.Status)
			}
		case resp.Status != http.StatusOK:
			t.Errorf("GET %s with a demoair key: %d %.200s", p, resp.Status, resp.Body)
		}
		// A refusal names the brand refused; an answer names none of its.
		body := string(resp.Body)
		if strings.Contains(body, secret) || resp.Status == http.StatusOK && strings.Contains(body, "demohotel") {
			t.Errorf("GET %s with a demoair key shows demohotel's: %.300s", p, body)
		}
	}
	// A contact shared by both brands: its answers are only the key's brands'.
	var answers list[map[string]any]
	b.callAs(t, air, http.MethodGet, fmt.Sprintf("/api/v1/contacts/%d/answers", res.ContactID), nil).decode(t, http.StatusOK, &answers)
	if len(answers.Data) != 0 {
		t.Errorf("a demoair key reads %d answers given to demohotel", len(answers.Data))
	}
}
