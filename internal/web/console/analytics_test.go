package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/automation"
)

// analyticsWorld: two customers of the demo brand (its zone set to UTC)
// on 2026-11-10 and 11, each answered by a person (after 3 and 20
// minutes), the second answer failed; an opt-in and an opt-out.
func analyticsWorld(t *testing.T, env *apptest.Env) (conv1, conv2 int64) {
	t.Helper()
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Store.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`UPDATE brands SET timezone = 'UTC' WHERE id = $1`, env.Brand.ID)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	customer := func(sid, phone, body, when string) int64 {
		conv := text(t, env, sid, phone, body)
		exec(`UPDATE messages SET created_at = $2 WHERE twilio_sid = $1`, sid, at(when))
		exec(`UPDATE conversations SET created_at = $2 WHERE id = $1`, conv, at(when))
		return conv
	}
	reply := func(conv int64, status, when string) {
		exec(`INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, purpose, origin, segments, created_at, sent_at)
			SELECT c.id, c.brand_id, 'outbound', 'On it', '+15005550006', c.last_phone, $2, 'conversational', 'agent', 1, $3,
			       CASE WHEN $2 IN ('sent', 'delivered', 'undelivered') THEN $3::timestamptz END
			  FROM conversations c WHERE c.id = $1`, conv, status, at(when))
	}
	conv1 = customer("SM"+strings.Repeat("1", 32), "+12125550181", "<script>alert(1)</script> refund please", "2026-11-10T09:00:00Z")
	reply(conv1, "delivered", "2026-11-10T09:03:00Z")
	conv2 = customer("SM"+strings.Repeat("2", 32), "+12125550182", "refund my booking", "2026-11-11T10:00:00Z")
	reply(conv2, "failed", "2026-11-11T10:20:00Z")
	exec(`INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, created_at) VALUES
		($1, '+12125550181', 'marketing', 'opted_in', 'web_form', 'test', '2026-11-10T12:00:00Z'),
		($1, '+12125550182', 'marketing', 'opted_out', 'keyword', 'test', '2026-11-12T08:00:00Z')`, env.Brand.ID)
	return conv1, conv2
}

const analyticsPeriod = "from=2026-11-10&to=2026-11-12"

func TestAnalyticsDashboardNumbers(t *testing.T) {
	env, users := setup(t)
	conv1, _ := analyticsWorld(t, env)
	// The first reply was the agent's (the brand's target: 15 minutes).
	agent, err := env.Store.UserByEmail(context.Background(), users["agent"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Pool.Exec(context.Background(), `UPDATE messages SET origin_ref = $2 WHERE conversation_id = $1 AND origin = 'agent'`,
		conv1, fmt.Sprint(agent.ID)); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.SummarizeEngagement(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, _ := signedIn(t, env, users, "marketer")
	resp, page := b.do(t, http.MethodGet, "/analytics?brand="+env.Brand.Slug+"&"+analyticsPeriod, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		// volume: in, out per day
		`<tr><td>2026-11-10</td><td>1</td><td>1</td></tr>`,
		`<tr><td>2026-11-11</td><td>1</td><td>1</td></tr>`,
		`<tr><td>2026-11-12</td><td>0</td><td>0</td></tr>`,
		// first responses: waits, answered, median, 90th percentile,
		// breaches of the 15-minute target; by person; by hour
		`<tr><td>2026-11-10</td><td>1</td><td>1</td><td>3m0s</td><td>3m0s</td><td>0</td></tr>`,
		`<tr><td>2026-11-11</td><td>1</td><td>1</td><td>20m0s</td><td>20m0s</td><td>1</td></tr>`,
		`Target 15m0s on the clock: 1 met, 1 breached, 0 not yet due.`,
		`<tr><td>` + users["agent"] + `</td><td>1</td><td>3m0s</td><td>3m0s</td><td>3m0s</td><td>0</td></tr>`,
		`<tr><td>09:00</td><td>1</td><td>1</td><td>3m0s</td><td>3m0s</td><td>0</td></tr>`,
		`<tr><td>10:00</td><td>1</td><td>1</td><td>20m0s</td><td>20m0s</td><td>1</td></tr>`,
		`<tr><td>by a person</td><td>2</td><td>100.0%</td></tr>`,
		`<tr><td>automatically only</td><td>0</td><td>0.0%</td></tr>`,
		// delivery: sent, delivered, undelivered, failed, pending, suppressed, rate
		`<tr><td>2026-11-10</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>100.0%</td></tr>`,
		`<tr><td>2026-11-11</td><td>0</td><td>0</td><td>0</td><td>1</td><td>0</td><td>0</td><td></td></tr>`,
		// the cost: the delivered reply's segment (the failed one was never accepted)
		`<tr><td>conversational</td><td>1</td></tr>`,
		`<tr><td>marketing</td><td>0</td></tr>`,
		// relationship: no proactive text nor question; the opt-out of the
		// 12th came on a day the brand sent nothing
		`<tr><td>2026-11-10</td><td>0</td><td>0</td><td></td><td>0</td><td>0</td><td></td><td>1</td><td>0</td><td>0.0%</td></tr>`,
		`<tr><td>2026-11-12</td><td>0</td><td>0</td><td></td><td>0</td><td>0</td><td></td><td>0</td><td>1</td><td></td></tr>`,
		`conversations open; of 0 customers who wrote in the last 90 days`,
		// consent
		`<tr><td>2026-11-10</td><td>1</td><td>0</td></tr>`,
		`<tr><td>2026-11-12</td><td>0</td><td>1</td></tr>`,
		// topics: refund in both texts
		`<tr><td>Top</td><td>refund</td><td>2</td><td>0</td></tr>`,
		// the charts, drawn on the server, each point of a day a link
		`<svg xmlns="http://www.w3.org/2000/svg"`,
		`href="/analytics/conversations?brand=` + env.Brand.Slug + `&amp;day=2026-11-10"`,
		`<details><summary>Numbers</summary>`,
		`href="/analytics.csv?brand=` + env.Brand.Slug + `&amp;from=2026-11-10&amp;granularity=day&amp;report=volume&amp;to=2026-11-12"`,
		// the customer's markup stays text
		`&lt;script&gt;alert(1)&lt;/script&gt; refund please`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>alert(1)") {
		t.Fatal("a customer's script reached the page unescaped")
	}
	if strings.Contains(page, `href="/analytics/messages/`) {
		t.Error("a marketer, who cannot open conversations, is given links to them")
	}
	// The CSV holds the table's rows.
	resp, body := b.do(t, http.MethodGet, "/analytics.csv?report=volume&brand="+env.Brand.Slug+"&"+analyticsPeriod, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		body != "bucket,inbound,outbound\n2026-11-10,1,1\n2026-11-11,1,1\n2026-11-12,0,0\n" {
		t.Fatalf("volume CSV: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, _ := b.do(t, http.MethodGet, "/analytics.csv?report=nope&brand="+env.Brand.Slug, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown report: %d", resp.StatusCode)
	}
	// Business hours from 09:10 on weekdays (2026-11-10 is a Tuesday): the
	// 09:00 text waited 0 s of them, the 10:00 one 20 minutes; the target
	// keeps its wall clock.
	open := `{"business_hours": {"mon": [["09:10", "18:00"]], "tue": [["09:10", "18:00"]], "wed": [["09:10", "18:00"]], "thu": [["09:10", "18:00"]], "fri": [["09:10", "18:00"]]}}`
	if _, err := automation.NewService(env.Store, env.App.Routing).PutSettings(context.Background(), env.Brand, []byte(open)); err != nil {
		t.Fatal(err)
	}
	resp, page = b.do(t, http.MethodGet, "/analytics?hours=business&brand="+env.Brand.Slug+"&"+analyticsPeriod, nil)
	for _, want := range []string{
		`<tr><td>2026-11-10</td><td>1</td><td>1</td><td>0s</td><td>0s</td><td>0</td></tr>`,
		`<tr><td>2026-11-11</td><td>1</td><td>1</td><td>20m0s</td><td>20m0s</td><td>1</td></tr>`,
		`First response by a person, in business hours`,
		`<option value="business" selected>business hours</option>`,
		`&amp;hours=business&amp;report=response-times`,
	} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("business hours: %d, lacks %s", resp.StatusCode, want)
		}
	}
	for _, bad := range []string{"from=2026-11-12&to=2026-11-10", "granularity=week", "from=yesterday", "brand=nope", "hours=lunar"} {
		if resp, _ := b.do(t, http.MethodGet, "/analytics?"+bad, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/analytics?%s: %d, want 400", bad, resp.StatusCode)
		}
	}
	// A day's point: the conversations of that day.
	resp, page = b.do(t, http.MethodGet, "/analytics/conversations?brand="+env.Brand.Slug+"&day=2026-11-10", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "#"+id64(conv1)) || strings.Count(page, "<tr><td>#") != 1 {
		t.Fatalf("conversations of the day: %d\n%s", resp.StatusCode, page)
	}
}

func TestAnalyticsRoles(t *testing.T) {
	env, users := setup(t)
	conv1, _ := analyticsWorld(t, env)
	agent, _ := signedIn(t, env, users, "agent")
	if resp, _ := agent.do(t, http.MethodGet, "/analytics", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("agent: %d, want 403", resp.StatusCode)
	}
	if resp, _ := agent.do(t, http.MethodGet, "/analytics.csv?report=volume", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("agent CSV: %d, want 403", resp.StatusCode)
	}
	_, page := agent.do(t, http.MethodGet, "/", nil)
	if strings.Contains(page, `href="/analytics"`) {
		t.Error("the agent's menu links to analytics")
	}
	admin, _ := signedIn(t, env, users, "admin")
	resp, page := admin.do(t, http.MethodGet, "/analytics?brand="+env.Brand.Slug+"&"+analyticsPeriod, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<a href="/analytics">Analytics</a>`) {
		t.Fatalf("admin: %d", resp.StatusCode)
	}
	// An admin opens conversations: an example text leads to its own.
	var msg int64
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT id FROM messages WHERE conversation_id = $1 AND direction = 'inbound'`, conv1).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, `href="/analytics/messages/`+id64(msg)+`"`) {
		t.Fatal("the admin's topics do not link their examples")
	}
	resp, _ = admin.do(t, http.MethodGet, "/analytics/messages/"+id64(msg), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/conversations/"+id64(conv1) {
		t.Fatalf("example link: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	marketer, _ := signedIn(t, env, users, "marketer")
	if resp, _ := marketer.do(t, http.MethodGet, "/analytics/messages/"+id64(msg), nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("marketer example link: %d, want 403", resp.StatusCode)
	}
}

func id64(n int64) string { return strconv.FormatInt(n, 10) }
