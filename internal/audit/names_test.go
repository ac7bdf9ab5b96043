package audit

import "testing"

func TestNames(t *testing.T) {
	params := map[string]string{"id": "12", "slug": "demoair"}
	p := func(n string) string { return params[n] }
	for _, c := range []struct{ method, route, action, target string }{
		{"POST", "/conversations/:id/reply", "reply", "conversation:12"},
		{"POST", "/conversations/:id/close", "close", "conversation:12"},
		{"POST", "/admin/brands/:slug/numbers", "number.add", "brand:demoair"},
		{"POST", "/admin/routing/:slug/rules/:id/delete", "rule.delete", "rule:12"},
		{"POST", "/admin/routing/:slug/settings", "settings.update", "brand:demoair"},
		{"POST", "/admin/api-keys/:id/revoke", "api_key.revoke", "api-key:12"},
		{"POST", "/admin/webhooks/:id/delete", "admin.webhooks.delete", "webhook:12"},
		{"DELETE", "/admin/things/:id", "admin.things.delete", "thing:12"},
		{"POST", "/campaigns", "campaign.create", ""},
		{"POST", "/admin/canned/:id/delete", "canned.delete", "canned:12"},
		{"POST", "/admin/merges/:id/undo", "merge.undo", "merge:12"},
		{"POST", "/logout", "logout", ""},
	} {
		if got := ActionOf(c.method, c.route); got != c.action {
			t.Errorf("ActionOf(%s %s) = %q, want %q", c.method, c.route, got, c.action)
		}
		if got := TargetOf(c.route, p); got != c.target {
			t.Errorf("TargetOf(%s) = %q, want %q", c.route, got, c.target)
		}
	}
	if Recorded("GET", "/conversations/:id") || Recorded("POST", "/campaigns/audience-count") || !Recorded("POST", "/campaigns") {
		t.Error("Recorded: reads must not be actions, changes must")
	}
	if got := APIActionOf("POST", "/api/v1/campaigns/:id/pause"); got != "api.post:/campaigns/:id/pause" {
		t.Errorf("APIActionOf = %q", got)
	}
}
