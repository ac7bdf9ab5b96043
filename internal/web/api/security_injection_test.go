package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store"
)

// tableRows counts the rows of every table of the database: a table an
// injection dropped is missing, one it wrote to has another count.
func (b *bundle) tableRows(t *testing.T) map[string]int64 {
	t.Helper()
	rows, err := b.st.Pool.Query(b.ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf(`SELECT '%s', count(*) FROM %q`, name, name))
	}
	rows.Close()
	out := map[string]int64{}
	counts, err := b.st.Pool.Query(b.ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		t.Fatal(err)
	}
	defer counts.Close()
	for counts.Next() {
		var name string
		var n int64
		if err := counts.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

// refusedCleanly checks an answer to hostile input: 200, or a 4xx in the
// error envelope (a 400 about a field naming it), never a 5xx.
func refusedCleanly(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("%s: %d %.300s", what, r.Status, r.Body)
		return
	}
	if r.Status < 400 {
		return
	}
	var e apiError
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Errorf("%s: %d without the error envelope: %.300s", what, r.Status, r.Body)
		return
	}
	// A field's error names it; a body that is not JSON at all is the
	// whole request's (invalid_request).
	if r.Status == http.StatusBadRequest && e.Error.Field == "" && e.Error.Code != "invalid_request" {
		t.Errorf("%s: 400 %s naming no field: %.300s", what, e.Error.Code, r.Body)
	}
}

// The SQL-injection corpus against every filter and search of the API —
// contacts, consent, conversations, campaigns and their recipients'
// state, segments (their filters, and the count evaluated from them),
// triggers, webhooks, audit, analytics, exports: each answers 200 or a
// clear 4xx, never 500, and afterwards every table is still there with as
// many rows as before (but the segments the corpus saved, and the audit
// entries of those saves).
func TestSecurityAPISQLInjection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.text(t, b.air, "+12125550100", "hello", time.Now())
	cp, err := b.st.CreateCampaign(b.ctx, store.Campaign{BrandID: b.air.ID, Name: "Spring", Variants: []string{"Hi"}})
	if err != nil {
		t.Fatal(err)
	}
	before := b.tableRows(t)
	if _, ok := before["contacts"]; !ok || before["contacts"] == 0 || before["messages"] == 0 {
		t.Fatalf("the world is not set up: %v", before)
	}
	period := "&from=2026-11-01&to=2026-11-07"
	// Each filter, with P where the payload goes.
	gets := []string{
		"/api/v1/contacts?phone=P", "/api/v1/contacts?loyalty_id=P",
		"/api/v1/consent?brand=demoair&phone=P", "/api/v1/consent?brand=P&phone=%2B12125550100",
		"/api/v1/conversations?brand=P", "/api/v1/conversations?brand=demoair&phone=P", "/api/v1/conversations?loyalty_id=P",
		"/api/v1/conversations?status=P", "/api/v1/conversations?after=P", "/api/v1/conversations?limit=P",
		fmt.Sprintf("/api/v1/conversations/%d/messages?after=P", res.ConversationID), "/api/v1/messages/P",
		"/api/v1/campaigns?brand=P", "/api/v1/campaigns?before=P", "/api/v1/campaigns/P",
		fmt.Sprintf("/api/v1/campaigns/%d/recipients?state=P", cp.ID), fmt.Sprintf("/api/v1/campaigns/%d/recipients?after=P", cp.ID),
		"/api/v1/segments?brand=P", "/api/v1/segments?before=P", "/api/v1/segments/P",
		"/api/v1/triggers?brand=P", "/api/v1/triggers/P/runs", "/api/v1/webhooks?brand=P", "/api/v1/brands/P/settings", "/api/v1/brands/P/auto-replies",
		"/api/v1/audit?actor=P", "/api/v1/audit?action=P", "/api/v1/audit?since=P", "/api/v1/audit?until=P", "/api/v1/audit?before=P",
		"/api/v1/contacts/export?brand=P", "/api/v1/consent/export?brand=P", "/api/v1/contacts/P/answers", "/api/v1/questions/P/results",
		"/api/v1/analytics/conversations.csv?brand=P" + period,
	}
	for _, report := range []string{"volume", "response-times", "delivery", "consent", "campaigns", "topics"} {
		base := "/api/v1/analytics/" + report
		gets = append(gets, base+"?brand=P"+period, base+"?brand=demoair&from=P&to=2026-11-07", base+"?brand=demoair&from=2026-11-01&to=P",
			base+"?brand=demoair&granularity=P"+period)
	}
	saved := 0
	for _, p := range apptest.SQLInjection {
		q := url.QueryEscape(p)
		for _, g := range gets {
			path := strings.ReplaceAll(g, "P", q)
			if strings.Contains(g, "/P") {
				path = strings.ReplaceAll(g, "P", url.PathEscape(p))
			}
			refusedCleanly(t, fmt.Sprintf("GET %s with %.40q", g, p), b.call(t, http.MethodGet, path, nil))
		}
		// A segment's filter, saved and then counted, which runs it.
		filter := map[string]any{"tiers": []string{p}, "labels": []string{p}, "timezones": []string{p},
			"attributes":         map[string]any{p: map[string]any{"eq": p}, "tier": map[string]any{"in": []string{p}}},
			"last_inbound_after": p, "opted_in_after": p}
		refusedCleanly(t, fmt.Sprintf("POST /api/v1/segments, every filter %.40q", p), b.call(t, http.MethodPost, "/api/v1/segments",
			map[string]any{"brand": "demoair", "name": p, "filter": filter}))
		for _, f := range []map[string]any{
			{"tiers": []string{p}}, {"labels": []string{p}}, {"attributes": map[string]any{p: map[string]any{"exists": true}}},
			{"attributes": map[string]any{"city": map[string]any{"eq": p}}}, {"attributes": map[string]any{"tier": map[string]any{"in": []string{p, "gold"}}}},
		} {
			r := b.call(t, http.MethodPost, "/api/v1/segments", map[string]any{"brand": "demoair", "name": "s", "filter": f})
			refusedCleanly(t, fmt.Sprintf("POST /api/v1/segments %v", f), r)
			if r.Status != http.StatusCreated {
				continue
			}
			saved++
			var out struct {
				Data struct {
					ID int64 `json:"id"`
				} `json:"data"`
			}
			r.decode(t, http.StatusCreated, &out)
			c := b.call(t, http.MethodGet, fmt.Sprintf("/api/v1/segments/%d", out.Data.ID), nil)
			refusedCleanly(t, fmt.Sprintf("GET the count of segment %v", f), c)
			if c.Status != http.StatusOK {
				t.Errorf("a saved segment %v cannot be counted: %d %s", f, c.Status, c.Body)
			}
		}
	}
	after := b.tableRows(t)
	for name, n := range before {
		m, ok := after[name]
		switch {
		case !ok:
			t.Errorf("table %s is gone", name)
		case name == "segments":
			if m < n+int64(saved) {
				t.Errorf("segments: %d, want at least %d", m, n+int64(saved))
			}
		case slices.Contains([]string{"audit_log", "idempotency_keys"}, name):
		case m != n:
			t.Errorf("table %s: %d rows, %d before", name, m, n)
		}
	}
	if saved == 0 {
		t.Error("no hostile segment filter was saved: the counts were never run")
	}
}
