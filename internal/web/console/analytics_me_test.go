package console_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/analytics"
)

// TestAnalyticsMine: an agent sees the waits they answered first and no
// one else's; an admin answering the other wait sees theirs; read raw and
// through the rollups, the page is the same.
func TestAnalyticsMine(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	conv1, conv2 := analyticsWorld(t, env)
	for conv, role := range map[int64]string{conv1: "agent", conv2: "admin"} {
		if _, err := env.Store.Pool.Exec(ctx, `UPDATE messages SET origin_ref = (SELECT id::text FROM users WHERE email = $2)
			WHERE conversation_id = $1 AND origin = 'agent'`, conv, users[role]); err != nil {
			t.Fatal(err)
		}
	}
	mine := func(role string) string {
		t.Helper()
		b, _ := signedIn(t, env, users, role)
		resp, page := b.do(t, http.MethodGet, "/analytics/me?brand="+env.Brand.Slug+"&"+analyticsPeriod, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d\n%s", role, resp.StatusCode, page)
		}
		start, end := strings.Index(page, `<section class="card report" id="report-mine">`), strings.LastIndex(page, `</section>`)
		if start < 0 || end < start {
			t.Fatalf("%s: no figures\n%s", role, page)
		}
		return page[start:end]
	}
	agent, admin := mine("agent"), mine("admin")
	for _, want := range []string{`<tr><th>First response</th><td>1</td><td>3m0s</td><td>3m0s</td><td>3m0s</td></tr>`,
		`data-conversations="1"`, `<tr><td>0-5m</td><td>1</td></tr>`, `<tr><td>2026-11-10</td><td>1</td><td>3m0s</td><td>3m0s</td>`,
		`<tr><td>2026-11-11</td><td>0</td><td></td><td></td>`} {
		if !strings.Contains(agent, want) {
			t.Errorf("the agent's figures lack %s:\n%s", want, agent)
		}
	}
	if strings.Contains(agent, "20m0s") {
		t.Errorf("the agent sees the admin's 20-minute answer:\n%s", agent)
	}
	if !strings.Contains(admin, `<tr><th>First response</th><td>1</td><td>20m0s</td>`) || strings.Contains(admin, "3m0s") {
		t.Errorf("the admin's figures:\n%s", admin)
	}
	if ran, err := analytics.NewRefresher(env.Store, slog.New(slog.DiscardHandler)).Refresh(ctx); err != nil || !ran {
		t.Fatalf("refresh: %v %v", ran, err)
	}
	if got := mine("agent"); got != agent {
		t.Errorf("through the rollups:\n%s\nraw:\n%s", got, agent)
	}
}
