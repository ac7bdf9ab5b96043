package browsertest

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/apptest"
)

// A marketer opens the analytics dashboard in the real browser: the charts
// are SVG drawn on the server, nothing a customer wrote runs, the page
// fits a phone, and a day's point leads to that day's conversations.
// Saves docs/screenshots/analytics.png with PARLEY_SCREENSHOTS=1.
func TestAnalyticsDashboard(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Store.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	bodies := []string{"Is my flight to Lisbon on time?", "Can I change my seat on the Lisbon flight", "refund for my cancelled flight", probeBody}
	for i, body := range bodies {
		text(t, env, sid(900+i), fmt.Sprintf("+1212555077%d", i), body)
	}
	// A week of traffic: texts in and out every few hours in the customers'
	// conversations, some failed, and opt-ins and opt-outs.
	exec(`INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, purpose, origin, segments, created_at, sent_at)
		SELECT c.id, c.brand_id, d.dir, CASE WHEN d.dir = 'inbound' THEN 'seat upgrade for my flight' ELSE 'On it' END,
		       CASE WHEN d.dir = 'inbound' THEN c.last_phone ELSE '+15005550006' END,
		       CASE WHEN d.dir = 'inbound' THEN '+15005550006' ELSE c.last_phone END,
		       CASE WHEN d.dir = 'inbound' THEN 'received' WHEN g % 7 = 0 THEN 'failed' ELSE 'delivered' END,
		       'conversational', CASE WHEN d.dir = 'inbound' THEN 'customer' ELSE 'agent' END, 1,
		       now() - make_interval(hours => g * 3 + (c.id % 3)::int) + CASE WHEN d.dir = 'outbound' THEN make_interval(mins => (g % 50)::int + 1) ELSE interval '0' END,
		       CASE WHEN d.dir = 'outbound' AND g % 7 <> 0 THEN now() - make_interval(hours => g * 3) END
		  FROM conversations c CROSS JOIN generate_series(1, 50) g CROSS JOIN (VALUES ('inbound'), ('outbound')) d(dir)
		 WHERE c.brand_id = $1 AND (g + c.id) % 3 <> 0`, env.Brand.ID)
	exec(`INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, created_at)
		SELECT $1, '+1212555078' || (g % 10), 'marketing', CASE WHEN g % 4 = 0 THEN 'opted_out' ELSE 'opted_in' END, 'web_form', 'test',
		       now() - make_interval(hours => g * 7)
		  FROM generate_series(1, 20) g`, env.Brand.ID)
	w := newWorld(t, env)
	w.signIn(t)
	exec(`UPDATE users SET role = 'marketer' WHERE email = $1`, agentEmail)
	w.run(t, "open the dashboard", chromedp.Navigate(env.PublicURL+"/analytics"), chromedp.WaitVisible(`#report-volume svg.chart`))
	if n := w.evalInt(t, `document.querySelectorAll("#report-volume svg.chart circle.point").length`); n != 14 {
		t.Fatalf("volume chart has %d points, want 14 (7 days, in and out)", n)
	}
	if n := w.evalInt(t, `document.querySelectorAll("#report-response-times svg.chart rect.bar").length`); n != 5 {
		t.Fatalf("first-response chart has %d bars, want 5", n)
	}
	if n := w.evalInt(t, `document.querySelectorAll("svg.chart").length`); n != 5 {
		t.Fatalf("%d charts, want 5 (volume, first responses, delivery, consent, relationship)", n)
	}
	if n := w.evalInt(t, `document.querySelectorAll("#report-relationship svg.chart polyline").length`); n != 2 {
		t.Fatalf("relationship chart has %d lines, want 2", n)
	}
	w.noScriptRan(t, "the analytics dashboard")
	w.screenshot(t, "analytics.png")
	// On a phone the charts shrink to the screen.
	w.run(t, "a phone's screen", chromedp.EmulateViewport(390, 844))
	if v := w.evalInt(t, `Math.ceil(document.querySelector("#report-volume svg.chart").getBoundingClientRect().width)`); v > 390 {
		t.Fatalf("on a phone the chart is %d px wide", v)
	}
	w.run(t, "back to a desktop", chromedp.EmulateViewport(1280, 800))
	// A day's point opens that day's conversations.
	href := w.evalString(t, `document.querySelectorAll("#report-volume svg.chart a")[6].getAttribute("href")`)
	w.run(t, "open a day", chromedp.Navigate(env.PublicURL+href), chromedp.WaitVisible(`h1`))
	if h := w.evalString(t, `document.querySelector("h1").textContent`); len(h) < 20 || h[:16] != "Conversations of" {
		t.Fatalf("after a point: %q", h)
	}
	if n := w.evalInt(t, `document.querySelectorAll("tbody tr").length`); n < 1 {
		t.Fatal("no conversation of the day listed")
	}
	w.noScriptRan(t, "the conversations of a day")
}
