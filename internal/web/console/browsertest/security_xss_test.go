package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store"
)

// The XSS corpus (apptest.XSS) stored everywhere customer text goes — the
// texts themselves, contact names, attribute names and values, labels,
// notes, campaign names and bodies — then every page that shows such text
// opened in the real browser: the inbox, each conversation with its
// contact panel, the analytics dashboard (topics and their example texts),
// a day's conversations, the campaigns list and a campaign's results, and
// the power users. On each: no dialog opens, nothing sets window.__xss,
// the CSP sees no injected script or handler, no element the corpus would
// create exists, and the text is there to read, as text.
func TestSecurityXSSRendersAsText(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Store.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	const tail = " my flight is late"
	// Conversation i is customer i's, who wrote corpus entry i and is named
	// after entry 7-i; customer 0 also wrote every other entry, and their
	// attributes, labels and notes hold the whole corpus.
	var convs []int64
	n := len(apptest.XSS)
	for i, p := range apptest.XSS {
		conv := text(t, env, sid(7000+i), fmt.Sprintf("+1212555066%d", i), p+tail)
		convs = append(convs, conv)
		exec(`UPDATE contacts SET name = $2, attributes = jsonb_build_object('tier', $2::text, 'followers', 20000)
			WHERE id = (SELECT contact_id FROM conversations WHERE id = $1)`, conv, apptest.XSS[n-1-i])
	}
	for i, p := range apptest.XSS {
		if i > 0 {
			text(t, env, sid(7100+i), "+12125550660", p+tail)
		}
		exec(`UPDATE contacts SET attributes = attributes || jsonb_build_object($2::text, $2::text)
			WHERE id = (SELECT contact_id FROM conversations WHERE id = $1)`, convs[0], p)
	}
	exec(`UPDATE conversations SET labels = $2 WHERE id = $1`, convs[0], apptest.XSS)
	if _, err := env.Store.RefreshEngagement(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CreateCannedResponse(ctx, store.CannedInput{Title: "Greeting", Body: "Hi {{.Name}}, {{.Attributes.tier}}"}); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, env)
	w.signIn(t)
	exec(`UPDATE users SET role = 'admin' WHERE email = $1`, agentEmail)
	for _, p := range apptest.XSS {
		if _, err := env.Store.AddNote(ctx, convs[0], w.userID(t), p); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := env.Store.CreateCampaign(ctx, store.Campaign{BrandID: env.Brand.ID, Name: apptest.XSS[0] + apptest.XSS[1],
		Variants: []string{apptest.XSS[2] + " Hi", apptest.XSS[4] + " Hello"}})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(env.Brand.Timezone)
	if err != nil {
		loc = time.UTC
	}
	today := time.Now().In(loc).Format(time.DateOnly)

	// prefix is the start of a corpus entry, as a page shows it (the
	// inbox cuts a long preview).
	prefix := func(p string) string { return p[:min(len(p), 30)] }
	pages := []struct {
		path  string
		shows []string // text that must be there to read
	}{
		{"/?status=any", []string{prefix(apptest.XSS[0]), prefix(apptest.XSS[3]), prefix(apptest.XSS[6])}},
		{"/analytics", []string{"late"}},
		{"/analytics/conversations?day=" + today, []string{prefix(apptest.XSS[1]), prefix(apptest.XSS[7])}},
		{"/campaigns", []string{prefix(apptest.XSS[0])}},
		{fmt.Sprintf("/campaigns/%d", cp.ID), []string{prefix(apptest.XSS[0]), apptest.XSS[2] + " Hi", apptest.XSS[4] + " Hello"}},
		{"/power-users", []string{prefix(apptest.XSS[2]), prefix(apptest.XSS[5])}},
	}
	// The thread, the heading, the labels, the notes and the contact
	// panel (name, attributes' names and values) hold the whole corpus.
	pages = append([]struct {
		path  string
		shows []string
	}{{fmt.Sprintf("/conversations/%d", convs[0]), apptest.XSS}}, pages...)
	for _, pg := range pages {
		w.run(t, "open "+pg.path, chromedp.Navigate(env.PublicURL+pg.path), chromedp.WaitReady("main", chromedp.ByQuery))
		time.Sleep(150 * time.Millisecond) // give a handler that got in time to fire
		w.noScriptRan(t, pg.path)
		if n := w.evalInt(t, fmt.Sprintf(`document.querySelectorAll(%q).length`, apptest.XSSMarker)); n != 0 {
			t.Fatalf("%s: %d elements made from customer text", pg.path, n)
		}
		if n := w.evalInt(t, `[...document.querySelectorAll("a[href]")].filter(a => a.getAttribute("href").trim().toLowerCase().startsWith("javascript:")).length`); n != 0 {
			t.Fatalf("%s: %d javascript: links", pg.path, n)
		}
		body := w.evalString(t, `document.body.textContent`)
		for _, s := range pg.shows {
			if !strings.Contains(body, s) {
				t.Errorf("%s does not show %q as text", pg.path, s)
			}
		}
	}
	// On the conversation page each entry shows as the customer's text,
	// a note and an attribute's name and value, and is in the labels box
	// as its value.
	w.run(t, "open the hostile conversation", chromedp.Navigate(fmt.Sprintf("%s/conversations/%d", env.PublicURL, convs[0])),
		chromedp.WaitReady("#contact-panel", chromedp.ByQuery))
	if got := w.evalString(t, `document.querySelector('input[name="labels"]').value`); got != strings.Join(apptest.XSS, ", ") {
		t.Errorf("the labels box holds %q, want the corpus as text", got)
	}
	for _, p := range apptest.XSS {
		if n := w.evalInt(t, fmt.Sprintf(`document.querySelector("main").textContent.split(%q).length - 1`, p)); n < 4 {
			t.Errorf("the conversation shows %q %d times, want at least 4 (text, note, attribute name and value)", p, n)
		}
	}
}
