package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// Customers who write often and answer the brand rank above those who
// wrote once; the page says why, a segment filters on the score, and an
// agent cannot see the ranking.
func TestPowerUsersRanking(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	in := func(sid int, phone, body string) {
		if _, err := env.Store.ReceiveInbound(ctx, []store.InboundRow{{SID: fmt.Sprintf("SM%032d", sid), BrandID: env.Brand.ID, From: phone,
			To: "+15005550006", Body: body, ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7"}}); err != nil {
			t.Fatal(err)
		}
	}
	out := func(phone string) {
		if _, err := env.Store.QueueOutbound(ctx, []store.OutboundRow{{BrandID: env.Brand.ID, From: "+15005550006", To: phone, Body: "How was it?",
			Purpose: "conversational", Origin: "trigger", Queue: "proactive", Segments: 1, Encoding: "GSM-7"}}); err != nil {
			t.Fatal(err)
		}
	}
	sid := 0
	for i := 0; i < 6; i++ { // the fan: writes, is asked, answers
		sid++
		in(sid, "+12125550301", "hello again")
		out("+12125550301")
		sid++
		in(sid, "+12125550301", "great, thanks")
	}
	sid++
	in(sid, "+12125550302", "once") // the one-timer
	if _, err := env.Store.Pool.Exec(ctx, `UPDATE contacts SET name = 'Fan Fay', attributes = '{"followers": 250000, "tier": "gold"}'
		WHERE id = (SELECT contact_id FROM contact_phones WHERE phone = '+12125550301')`); err != nil {
		t.Fatal(err)
	}
	if n, err := env.Store.RefreshEngagement(ctx); err != nil || n != 2 {
		t.Fatalf("refresh: %d %v", n, err)
	}
	ps, err := env.Store.PowerUsers(ctx, env.Brand.ID, -1, 0, 10)
	if err != nil || len(ps) != 2 {
		t.Fatalf("power users %+v %v", ps, err)
	}
	if ps[0].Name != "Fan Fay" || ps[0].Score <= ps[1].Score || ps[0].TextsIn != 12 || ps[0].Replies != 6 || ps[0].Followers != 250000 {
		t.Fatalf("ranking %+v", ps)
	}
	mb := newBrowser(t, env)
	mb.login(t, users["marketer"], "correct horse marketer")
	resp, page := mb.do(t, http.MethodGet, "/power-users", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Fan Fay") || !strings.Contains(page, "answered 6 of 6 of our texts") ||
		strings.Index(page, "Fan Fay") > strings.Index(page, "1 texts in 90 days") {
		t.Fatalf("power users page: %d\n%s", resp.StatusCode, page)
	}
	ab := newBrowser(t, env)
	ab.login(t, users["agent"], "correct horse agent")
	if resp, _ := ab.do(t, http.MethodGet, "/power-users", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent on the power users page: %d, want 403", resp.StatusCode)
	}
	// A segment of the engaged: only the fan (with marketing consent).
	for _, p := range []string{"+12125550301", "+12125550302"} {
		if _, err := env.Store.Pool.Exec(ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source) VALUES ($1, $2, 'marketing', 'opted_in', 'import')`,
			env.Brand.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	count := func(a store.Audience) int {
		n := 0
		if _, err := env.Store.EstimateAudience(ctx, env.Brand.ID, a, func(store.EligibleRecipient) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if engaged, all := count(store.Audience{MinEngagement: ps[1].Score + 1}), count(store.Audience{}); engaged != 1 || all != 2 {
		t.Fatalf("min_engagement audience: %d of %d, want 1 of 2", engaged, all)
	}
}
