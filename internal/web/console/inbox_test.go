package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

// signedIn logs a browser in as role and returns it with the CSRF token of
// its session.
func signedIn(t *testing.T, env *apptest.Env, users map[string]string, role string) (*browser, string) {
	t.Helper()
	b := newBrowser(t, env)
	if resp, _ := b.login(t, users[role], "correct horse "+role); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: %d", role, resp.StatusCode)
	}
	for _, p := range []string{"/", "/account"} {
		_, page := b.do(t, http.MethodGet, p, nil)
		if m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page); m != nil {
			return b, m[1]
		}
	}
	t.Fatalf("no page shows %s a CSRF token", role)
	return nil, ""
}

// text sends an inbound SMS from phone and returns its conversation id.
func text(t *testing.T, env *apptest.Env, sid, phone, body string) int64 {
	t.Helper()
	if code, resp := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(sid, phone, body)); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	var id int64
	apptest.WaitFor(t, 5*time.Second, "the inbound message stored", func() bool {
		err := env.Store.Pool.QueryRow(context.Background(), `SELECT conversation_id FROM messages WHERE twilio_sid = $1`, sid).Scan(&id)
		return err == nil
	})
	return id
}

func post(t *testing.T, b *browser, path, csrf string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", csrf)
	return b.do(t, http.MethodPost, path, form)
}

func TestInboxListsWaitingCustomersAndEscapesTheirText(t *testing.T) {
	env, users := setup(t)
	conv := text(t, env, "SM"+strings.Repeat("a", 32), "+12125550101", "<script>alert(1)</script><img src=x onerror=alert(2)>\nsecond line")
	b, _ := signedIn(t, env, users, "agent")
	resp, page := b.do(t, http.MethodGet, "/", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("inbox: %d", resp.StatusCode)
	}
	page = strings.ReplaceAll(page, "&#43;", "+")
	if !strings.Contains(page, fmt.Sprintf(`href="/conversations/%d"`, conv)) || !strings.Contains(page, "+12125550101") {
		t.Fatalf("the conversation is not listed:\n%s", page)
	}
	if strings.Contains(page, "<script>alert(1)") || strings.Contains(page, "<img src=x") {
		t.Fatal("customer text rendered as HTML")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(page, "second line") {
		t.Fatal("the row must show the first line of the last message, escaped")
	}
	if !strings.Contains(page, "waiting ") || !strings.Contains(page, `class="row unread`) {
		t.Fatal("a new inbound text: the customer is waiting and the row is unread")
	}
	resp, view := b.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", conv), nil)
	if resp.StatusCode != 200 || strings.Contains(view, "<script>alert") || !strings.Contains(view, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Fatalf("conversation view: %d, body escaped?", resp.StatusCode)
	}
	if _, page = b.do(t, http.MethodGet, "/", nil); strings.Contains(page, `class="row unread`) {
		t.Fatal("opening the conversation marks it read")
	}
}

func TestReplyGoesToTheCarrierAndStopsTheWaitingClock(t *testing.T) {
	env, users := setupWith(t, apptest.Options{Worker: true})
	conv := text(t, env, "SM"+strings.Repeat("b", 32), "+12125550102", "Is my flight on time?")
	b, csrf := signedIn(t, env, users, "agent")
	resp, body := post(t, b, fmt.Sprintf("/conversations/%d/reply", conv), csrf, url.Values{"body": {"Yes, on time. Safe travels!"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", resp.StatusCode, body)
	}
	apptest.WaitFor(t, 10*time.Second, "the reply at the fake Twilio", func() bool {
		for _, m := range env.Twilio.Sent() {
			if m.To == "+12125550102" && m.Body == "Yes, on time. Safe travels!" {
				return true
			}
		}
		return false
	})
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND waiting_since IS NULL`, conv); n != 1 {
		t.Fatal("an agent's reply stops the waiting clock")
	}
	if n := env.Count(t, `SELECT count(*) FROM messages m JOIN users u ON u.id::text = m.origin_ref
		WHERE m.conversation_id = $1 AND m.origin = 'agent' AND u.email = $2`, conv, users["agent"]); n != 1 {
		t.Fatal("the reply records which agent sent it")
	}
	_, view := b.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", conv), nil)
	if !strings.Contains(view, users["agent"]+"\n· <span class=\"status") || !strings.Contains(view, "Yes, on time. Safe travels!") {
		t.Fatalf("the history shows the reply and who sent it:\n%s", view)
	}
	// Empty reply: 400 naming the field, nothing queued.
	resp, body = post(t, b, fmt.Sprintf("/conversations/%d/reply", conv), csrf, url.Values{"body": {"   "}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "body") {
		t.Fatalf("empty reply: %d %s", resp.StatusCode, body)
	}
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND origin = 'agent'`, conv); n != 1 {
		t.Fatalf("%d agent messages, want 1", n)
	}
}

func TestOptedOutCustomerCannotBeTexted(t *testing.T) {
	env, users := setup(t)
	conv := text(t, env, "SM"+strings.Repeat("c", 32), "+12125550103", "STOP")
	b, csrf := signedIn(t, env, users, "agent")
	_, view := b.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", conv), nil)
	if !strings.Contains(view, "opted out and cannot be texted") || !strings.Contains(view, "START") || strings.Contains(view, `id="reply-form"`) {
		t.Fatal("the reply box must say the customer opted out, how, and that START opts back in")
	}
	before := env.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1`, conv)
	req := url.Values{"body": {"Please come back"}}
	resp, body := post(t, b, fmt.Sprintf("/conversations/%d/reply", conv), csrf, req)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "opted out") {
		t.Fatalf("reply to an opted-out customer: %d %s", resp.StatusCode, body)
	}
	if after := env.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1`, conv); after != before {
		t.Fatal("a refused reply stored a message")
	}
}

func TestConversationActions(t *testing.T) {
	env, users := setup(t)
	conv := text(t, env, "SM"+strings.Repeat("d", 32), "+12125550104", "Hello")
	b, csrf := signedIn(t, env, users, "agent")
	path := fmt.Sprintf("/conversations/%d/", conv)
	var agentID int64
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, users["agent"]).Scan(&agentID); err != nil {
		t.Fatal(err)
	}
	ok := func(action string, form url.Values) {
		t.Helper()
		if resp, body := post(t, b, path+action, csrf, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", action, resp.StatusCode, body)
		}
	}
	bad := func(action string, form url.Values, field string) {
		t.Helper()
		if resp, body := post(t, b, path+action, csrf, form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, field) {
			t.Fatalf("%s with bad input: %d %s", action, resp.StatusCode, body)
		}
	}
	row := func() (status string, assignee int64, labels string, note int) {
		t.Helper()
		err := env.Store.Pool.QueryRow(context.Background(), `SELECT status, coalesce(assignee_id, 0), array_to_string(labels, ','),
			(SELECT count(*) FROM conversation_notes WHERE conversation_id = c.id) FROM conversations c WHERE id = $1`, conv).
			Scan(&status, &assignee, &labels, &note)
		if err != nil {
			t.Fatal(err)
		}
		return
	}

	ok("assign", url.Values{"assignee_id": {fmt.Sprint(agentID)}})
	bad("assign", url.Values{"assignee_id": {"999999"}}, "assignee_id")
	ok("notes", url.Values{"body": {"Customer prefers aisle seats"}})
	bad("notes", url.Values{"body": {""}}, "body")
	ok("labels", url.Values{"labels": {"Billing, vip ,billing"}})
	bad("labels", url.Values{"labels": {"<b>"}}, "labels")
	if st, a, l, n := row(); st != "open" || a != agentID || l != "billing,vip" || n != 1 {
		t.Fatalf("after assign/note/labels: status %s assignee %d labels %q notes %d", st, a, l, n)
	}
	// "Mine" lists it; "unassigned" does not; the label filter finds it.
	for q, want := range map[string]bool{"assignee=mine": true, "assignee=unassigned": false, "label=vip": true, "label=other": false,
		"q=Hello": true, "q=5550104": true, "q=nothing-like-it": false, "status=closed": false} {
		_, page := b.do(t, http.MethodGet, "/?"+q, nil)
		if got := strings.Contains(page, fmt.Sprintf(`data-id="%d"`, conv)); got != want {
			t.Errorf("filter %s: listed %v, want %v", q, got, want)
		}
	}
	bad("snooze", url.Values{"until": {"yesterday"}}, "until")
	bad("snooze", url.Values{"until": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}}, "until")
	ok("snooze", url.Values{"until": {time.Now().Add(2 * time.Hour).Format("2006-01-02T15:04")}, "tz": {"America/New_York"}})
	if st, _, _, _ := row(); st != "snoozed" {
		t.Fatalf("after snooze: %s", st)
	}
	if _, page := b.do(t, http.MethodGet, "/?status=snoozed", nil); !strings.Contains(page, fmt.Sprintf(`data-id="%d"`, conv)) {
		t.Fatal("the snoozed filter lists it")
	}
	ok("close", nil)
	if st, _, _, _ := row(); st != "closed" {
		t.Fatalf("after close: %s", st)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND waiting_since IS NULL`, conv); n != 1 {
		t.Fatal("closing stops the waiting clock")
	}
	// The customer writes again: open, waiting again.
	text(t, env, "SM"+strings.Repeat("e", 32), "+12125550104", "One more thing")
	if st, _, _, _ := row(); st != "open" {
		t.Fatalf("a new text reopens: %s", st)
	}
	_, view := b.do(t, http.MethodGet, path[:len(path)-1], nil)
	for _, want := range []string{"Customer prefers aisle seats", "Note (not sent)", "assigned", "closed", "snoozed"} {
		if !strings.Contains(view, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	// Notes are never sent.
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND body LIKE '%aisle%'`, conv); n != 0 {
		t.Fatal("a note became a message")
	}
}

func TestLinkToLoyaltyIDMergesTheCustomer(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	// The loyalty member texted from one phone; the same person now texts from another.
	member := text(t, env, "SM"+strings.Repeat("f", 32), "+12125550105", "From my old phone")
	if _, err := contact.NewService(env.Store).Upsert(ctx, contact.Upsert{LoyaltyID: "LOY-77", Phones: []string{"+12125550105"}, Name: "Dana Reyes"}); err != nil {
		t.Fatal(err)
	}
	other := text(t, env, "SM"+strings.Repeat("0", 32), "+12125550106", "From my new phone")
	b, csrf := signedIn(t, env, users, "agent")
	// First what would be merged, and nothing changes.
	resp, body := post(t, b, fmt.Sprintf("/conversations/%d/link", other), csrf, url.Values{"loyalty_id": {"LOY-77"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Dana Reyes") || !strings.Contains(body, "12125550105") ||
		!strings.Contains(body, "12125550106") || !strings.Contains(body, `name="confirm" value="1"`) {
		t.Fatalf("link without confirmation: %d, want the merge shown for confirmation:\n%s", resp.StatusCode, body)
	}
	if n := env.Count(t, `SELECT count(*) FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE c.loyalty_id = 'LOY-77'`); n != 1 {
		t.Fatalf("an unconfirmed link merged: the member has %d phones", n)
	}
	resp, body = post(t, b, fmt.Sprintf("/conversations/%d/link", other), csrf, url.Values{"loyalty_id": {"LOY-77"}, "confirm": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("link: %d %s", resp.StatusCode, body)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversation_activity a JOIN users u ON u.id = a.actor_id
		WHERE a.kind = 'linked' AND u.email = $1 AND a.detail LIKE '%LOY-77%+12125550106%'`, users["agent"]); n != 1 {
		t.Fatal("the merge is not recorded with who did it")
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, fmt.Sprintf("/conversations/%d", member)) {
		t.Fatalf("after the merge the thread lives in the member's conversation %d; redirected to %s", member, loc)
	}
	if n := env.Count(t, `SELECT count(*) FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE c.loyalty_id = 'LOY-77'`); n != 2 {
		t.Fatalf("the member has %d phones, want 2", n)
	}
	_, view := b.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", member), nil)
	if !strings.Contains(view, "From my new phone") || !strings.Contains(view, "Dana Reyes") || !strings.Contains(view, "LOY-77") {
		t.Fatal("the merged conversation shows both phones' texts and the member's details")
	}

	// An admin undoes it: the customer has their phone and conversation back.
	if resp, _ := b.do(t, http.MethodGet, "/admin/merges", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent opened the merges page: %d", resp.StatusCode)
	}
	ab, acsrf := signedIn(t, env, users, "admin")
	_, page := ab.do(t, http.MethodGet, "/admin/merges", nil)
	var mergeID int64
	if err := env.Store.Pool.QueryRow(ctx, `SELECT id FROM contact_merges WHERE by_person`).Scan(&mergeID); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, fmt.Sprintf(`data-merge="%d"`, mergeID)) || !strings.Contains(page, users["agent"]) ||
		!strings.Contains(page, "12125550106") || !strings.Contains(page, "Dana Reyes") {
		t.Fatalf("the merges page does not show the merge with who made it:\n%s", page)
	}
	resp, body = post(t, ab, fmt.Sprintf("/admin/merges/%d/undo", mergeID), acsrf, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/merges?flash=merge_undone" {
		t.Fatalf("undo: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if n := env.Count(t, `SELECT count(*) FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE c.loyalty_id = 'LOY-77'`); n != 1 {
		t.Fatalf("after the undo the member has %d phones, want 1", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND merged_into IS NULL`, other); n != 1 {
		t.Fatal("after the undo the customer's own conversation is still merged")
	}
	if resp, view := b.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", other), nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(view, "From my new phone") || strings.Contains(view, "From my old phone") {
		t.Fatalf("the customer's conversation after the undo: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversation_activity a JOIN users u ON u.id = a.actor_id
		WHERE a.kind = 'unlinked' AND u.email = $1 AND a.conversation_id IN ($2, $3)`, users["admin"], member, other); n != 2 {
		t.Errorf("the undo is recorded in %d conversations' history, want 2", n)
	}
	resp, body = post(t, ab, fmt.Sprintf("/admin/merges/%d/undo", mergeID), acsrf, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already undone") {
		t.Fatalf("a second undo: %d, want 409 naming why", resp.StatusCode)
	}
}

// sse is one Server-Sent Event as a console receives it.
type sse struct{ kind, id, data string }

// eventStream opens the console's event stream (resuming after lastID when set)
// and returns its events in order.
func eventStream(t *testing.T, b *browser, lastID string) <-chan sse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.env.PublicURL+"/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := b.client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sse, 100)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.kind != "" {
					ch <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, "event: "):
				cur.kind = line[7:]
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[6:]
			}
		}
	}()
	return ch
}

// next waits for the next event of stream ch that pass accepts; every
// event before it goes to skipped, when given.
func next(t *testing.T, ch <-chan sse, what string, pass func(sse) bool, skipped func(sse)) sse {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-ch:
			if pass(e) {
				return e
			}
			if skipped != nil {
				skipped(e)
			}
		case <-timeout:
			t.Fatalf("no %s within 5 s", what)
			return sse{}
		}
	}
}

// events opens the console's event stream and returns a function that waits
// for the next event of the given kind, returning its id line and data.
func events(t *testing.T, b *browser, lastID string) func(kind string) (id, data string) {
	t.Helper()
	ch := eventStream(t, b, lastID)
	return func(kind string) (string, string) {
		t.Helper()
		e := next(t, ch, kind+" event", func(e sse) bool { return e.kind == kind }, nil)
		return e.id, e.data
	}
}

func TestLiveEventsAndCatchUp(t *testing.T) {
	env, users := setup(t)
	<-env.App.Hub.Ready()
	b, _ := signedIn(t, env, users, "agent")
	next := events(t, b, "")
	conv := text(t, env, "SM"+strings.Repeat("1", 32), "+12125550107", "Hi there")
	id, data := next("conversation")
	if data != fmt.Sprintf(`{"id":%d}`, conv) {
		t.Fatalf("event data %q, want conversation %d", data, conv)
	}
	// A console that was away catches up from its last event id.
	conv2 := text(t, env, "SM"+strings.Repeat("2", 32), "+12125550108", "Anyone?")
	again := events(t, b, id)
	seen := map[string]bool{}
	for len(seen) < 1 {
		_, d := again("conversation")
		if d == fmt.Sprintf(`{"id":%d}`, conv2) {
			seen[d] = true
		}
	}
	// An id that is not ours: resync.
	bad := events(t, b, "garbage")
	bad("resync")
}

func TestBrandLimitedAgent(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	<-env.App.Hub.Ready()
	other, err := app.BrandAdd(ctx, env.Store, app.BrandAddInput{Slug: "other-air", Name: "Other Air", Numbers: []string{"+15005550009"}, MPS: 10})
	if err != nil {
		t.Fatal(err)
	}
	mine := text(t, env, "SM"+strings.Repeat("3", 32), "+12125550109", "for demo-air")
	form := apptest.Inbound("SM"+strings.Repeat("4", 32), "+12125550110", "for other-air")
	form.Set("To", "+15005550009")
	// The webhook learns a new number within a second.
	apptest.WaitFor(t, 5*time.Second, "the webhook to accept the new number", func() bool {
		code, _ := env.PostForm(t, "/webhooks/twilio/sms", form)
		return code == 200
	})
	var theirs int64
	apptest.WaitFor(t, 5*time.Second, "the other brand's conversation", func() bool {
		return env.Store.Pool.QueryRow(ctx, `SELECT id FROM conversations WHERE brand_id = $1`, other.ID).Scan(&theirs) == nil
	})
	// The agent may only see demo-air.
	limitTo(t, env, users["agent"], env.Brand.ID)
	b, csrf := signedIn(t, env, users, "agent")
	_, page := b.do(t, http.MethodGet, "/?status=any", nil)
	if !strings.Contains(page, fmt.Sprintf(`data-id="%d"`, mine)) || strings.Contains(page, fmt.Sprintf(`data-id="%d"`, theirs)) {
		t.Fatal("the inbox must list only the agent's brand")
	}
	if resp, _ := b.do(t, http.MethodGet, "/?brand=other-air", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("filtering on a brand the agent cannot see: %d", resp.StatusCode)
	}
	if resp, _ := b.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", theirs), nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another brand's conversation: %d, want 403", resp.StatusCode)
	}
	for _, action := range []string{"reply", "notes", "close", "labels", "assign", "snooze", "reopen", "link"} {
		form := url.Values{"body": {"x"}, "labels": {"x"}, "until": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "loyalty_id": {"L1"}}
		if resp, _ := post(t, b, fmt.Sprintf("/conversations/%d/%s", theirs, action), csrf, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s on another brand's conversation: %d, want 403", action, resp.StatusCode)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'open' AND labels = '{}' AND assignee_id IS NULL`, theirs); n != 1 {
		t.Fatal("a forbidden action changed the conversation")
	}
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, theirs) +
		env.Count(t, `SELECT count(*) FROM conversation_notes WHERE conversation_id = $1`, theirs); n != 0 {
		t.Fatal("a forbidden action stored something")
	}
	// Live events: only the agent's brand.
	next := events(t, b, "")
	form = apptest.Inbound("SM"+strings.Repeat("5", 32), "+12125550110", "again, other-air")
	form.Set("To", "+15005550009")
	env.PostForm(t, "/webhooks/twilio/sms", form)
	text(t, env, "SM"+strings.Repeat("6", 32), "+12125550109", "again, demo-air")
	if _, data := next("conversation"); data != fmt.Sprintf(`{"id":%d}`, mine) {
		t.Fatalf("first event %s: the other brand's conversation must not be announced", data)
	}
}

func TestLiveAcrossProcesses(t *testing.T) {
	env, users := setup(t)
	second := apptest.New(t, apptest.Options{Share: env})
	<-env.App.Hub.Ready()
	b, _ := signedIn(t, env, users, "agent")
	next := events(t, b, "")
	// The text reaches the other process; the console on this one hears of it.
	if code, _ := second.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM"+strings.Repeat("7", 32), "+12125550111", "via the other process")); code != 200 {
		t.Fatalf("webhook on the second process: %d", code)
	}
	var conv int64
	apptest.WaitFor(t, 5*time.Second, "the message stored", func() bool {
		return env.Store.Pool.QueryRow(context.Background(), `SELECT conversation_id FROM messages WHERE twilio_sid = $1`, "SM"+strings.Repeat("7", 32)).Scan(&conv) == nil
	})
	if _, data := next("conversation"); data != fmt.Sprintf(`{"id":%d}`, conv) {
		t.Fatalf("event %s, want conversation %d", data, conv)
	}
}

func TestDeliveryStatusIsAnnounced(t *testing.T) {
	env, users := setupWith(t, apptest.Options{Worker: true})
	<-env.App.Hub.Ready()
	conv := text(t, env, "SM"+strings.Repeat("8", 32), "+12125550112", "status please")
	b, csrf := signedIn(t, env, users, "agent")
	if resp, body := post(t, b, fmt.Sprintf("/conversations/%d/reply", conv), csrf, url.Values{"body": {"On it"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", resp.StatusCode, body)
	}
	var sid string
	apptest.WaitFor(t, 10*time.Second, "the reply sent", func() bool {
		return env.Store.Pool.QueryRow(context.Background(), `SELECT twilio_sid FROM messages WHERE conversation_id = $1 AND origin = 'agent' AND twilio_sid IS NOT NULL`, conv).Scan(&sid) == nil
	})
	next := events(t, b, "")
	form := url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"}, "AccountSid": {apptest.AccountSID}, "To": {"+12125550112"}, "From": {apptest.BrandNumber}}
	if code, body := env.PostForm(t, "/webhooks/twilio/status", form); code != 200 && code != 204 {
		t.Fatalf("status callback: %d %s", code, body)
	}
	if _, data := next("conversation"); data != fmt.Sprintf(`{"id":%d}`, conv) {
		t.Fatalf("event %s, want conversation %d", data, conv)
	}
	_, view := b.do(t, http.MethodGet, fmt.Sprintf("/conversations/%d", conv), nil)
	if !strings.Contains(view, `data-status="delivered"`) {
		t.Fatal("the conversation shows the delivery status")
	}
}

// A member known only in brands the agent does not have cannot be merged
// into: refused the same as an unknown ID, and nothing changes.
func TestLinkOnlyToMembersOfOwnBrands(t *testing.T) {
	env, users := setup(t)
	ctx := context.Background()
	other, err := app.BrandAdd(ctx, env.Store, app.BrandAddInput{Slug: "other-air", Name: "Other Air", Numbers: []string{"+15005550009"}, MPS: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.ReceiveInbound(ctx, []store.InboundRow{{SID: "SM" + strings.Repeat("9", 32), BrandID: other.ID,
		From: "+12125550121", To: "+15005550009", Body: "elsewhere", ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := contact.NewService(env.Store).Upsert(ctx, contact.Upsert{LoyaltyID: "LOY-88", Phones: []string{"+12125550121"}, Name: "Elsewhere"}); err != nil {
		t.Fatal(err)
	}
	mine := text(t, env, "SM"+strings.Repeat("8", 32), "+12125550122", "hello")
	limitTo(t, env, users["agent"], env.Brand.ID)
	b, csrf := signedIn(t, env, users, "agent")
	for _, confirm := range []string{"", "1"} {
		resp, body := post(t, b, fmt.Sprintf("/conversations/%d/link", mine), csrf, url.Values{"loyalty_id": {"LOY-88"}, "confirm": {confirm}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "no loyalty member LOY-88 is known in your brands") {
			t.Fatalf("link to a member of another brand (confirm %q): %d", confirm, resp.StatusCode)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE c.loyalty_id = 'LOY-88'`); n != 1 {
		t.Fatal("a refused link merged")
	}
}

// limitTo gives the user of email exactly these brands.
func limitTo(t *testing.T, env *apptest.Env, email string, brandIDs ...int64) {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := env.Store.Pool.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.SetUserBrands(ctx, id, false, brandIDs); err != nil {
		t.Fatal(err)
	}
}
