package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

// BenchmarkAnalyticsDashboard: the server time of GET /analytics (all five
// reports of a week by day) over 100,000 texts of one brand in that week
// (2,000 conversations, half in, half out, one in seven out failed), as a
// signed-in marketer's browser sees it: 20 page loads, p50 and p95.
//
//	go test ./internal/web/console -run '^$' -bench AnalyticsDashboard -benchtime 1x
func BenchmarkAnalyticsDashboard(b *testing.B) {
	env := apptest.New(b, apptest.Options{})
	ctx := context.Background()
	if _, _, err := app.UserAdd(ctx, env.Store, "marketer@demo-air.example", "marketer", "correct horse marketer"); err != nil {
		b.Fatal(err)
	}
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := env.Store.Pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO contacts (name) SELECT 'Bench ' || g FROM generate_series(1, 2000) g`)
	exec(`INSERT INTO conversations (brand_id, contact_id, last_phone, status, created_at, last_message_at)
		SELECT $1, c.id, '+1212' || lpad(c.id::text, 7, '0'), 'open', now() - interval '8 days', now()
		  FROM contacts c WHERE c.name LIKE 'Bench %'`, env.Brand.ID)
	words := `(ARRAY['my flight is late','seat upgrade please','refund for my bag','wifi on board','where is my gate','change my booking'])`
	exec(`INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, purpose, origin, segments, created_at, sent_at)
		SELECT c.id, $1, CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
		       CASE WHEN g % 2 = 0 THEN `+words+`[g % 6 + 1] ELSE 'On it' END,
		       '+15005550006', c.last_phone,
		       CASE WHEN g % 2 = 0 THEN 'received' WHEN g % 7 = 1 THEN 'failed' ELSE 'delivered' END,
		       'conversational', CASE WHEN g % 2 = 0 THEN 'customer' ELSE 'agent' END, 1,
		       now() - interval '7 days' + (g * interval '6 seconds'),
		       CASE WHEN g % 2 = 1 AND g % 7 <> 1 THEN now() - interval '7 days' + (g * interval '6 seconds') END
		  FROM generate_series(1, 100000) g
		  JOIN conversations c ON c.id = (SELECT min(id) FROM conversations WHERE brand_id = $1) + (g % 2000)`, env.Brand.ID)
	exec(`ANALYZE messages`)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		resp, err := client.Get(env.PublicURL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	_, page := get("/login")
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	if resp, err := client.PostForm(env.PublicURL+"/login", url.Values{"csrf_token": {m[1]}, "email": {"marketer@demo-air.example"},
		"password": {"correct horse marketer"}, "next": {"/"}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: %v %v", resp, err)
	}
	path := "/analytics?brand=" + env.Brand.Slug
	if code, _ := get(path); code != http.StatusOK { // warm up
		b.Fatalf("dashboard: %d", code)
	}
	b.ResetTimer()
	for range b.N {
		var took []time.Duration
		for range 20 {
			start := time.Now()
			if code, _ := get(path); code != http.StatusOK {
				b.Fatalf("dashboard: %d", code)
			}
			took = append(took, time.Since(start))
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		b.ReportMetric(float64(took[9].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(took[18].Microseconds())/1000, "p95_ms")
	}
}
