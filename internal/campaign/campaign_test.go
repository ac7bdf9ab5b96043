package campaign_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/campaign"
)

const apiKey = "pk_test_campaigns_0123456789abcdef"

type world struct {
	*apptest.Env
	t *testing.T
}

func newWorld(t *testing.T) *world {
	t.Helper()
	t.Parallel()
	env := apptest.New(t, apptest.Options{Worker: true, App: func(o *app.Options) { o.CampaignEvery = 50 * time.Millisecond }})
	if _, err := env.Store.CreateAPIKey(context.Background(), "campaign test", apiKey); err != nil {
		t.Fatal(err)
	}
	return &world{Env: env, t: t}
}

// api sends a request with the key and decodes the answer's data.
func (w *world) api(method, path string, body any, out any) int {
	w.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.PublicURL+path, r)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			w.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		if len(env.Data) > 0 {
			if err := json.Unmarshal(env.Data, out); err != nil {
				w.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
			}
		} else if err := json.Unmarshal(raw, out); err != nil {
			w.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// person stores a contact with phones, attributes and the brand's
// marketing consent state for each phone ("" for none).
func (w *world) person(name string, attrs map[string]any, tz string, consent string, phones ...string) int64 {
	w.t.Helper()
	ctx := context.Background()
	a, _ := json.Marshal(attrs)
	if attrs == nil {
		a = []byte(`{}`)
	}
	var id int64
	if err := w.Store.Pool.QueryRow(ctx, `INSERT INTO contacts (name, attributes, timezone) VALUES ($1, $2, $3) RETURNING id`, name, a, tz).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	for _, p := range phones {
		if _, err := w.Store.Pool.Exec(ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2)`, p, id); err != nil {
			w.t.Fatal(err)
		}
		switch consent {
		case "opted_in", "opted_out":
			if consent == "opted_out" {
				w.consent(p, "opted_in")
			}
			w.consent(p, consent)
		}
	}
	return id
}

func (w *world) consent(phone, status string) {
	w.t.Helper()
	if _, err := w.Store.Pool.Exec(context.Background(), `INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence)
		VALUES ($1, $2, 'marketing', $3, 'import', 'test')`, w.Brand.ID, phone, status); err != nil {
		w.t.Fatal(err)
	}
}

type campaignOut struct {
	ID          int64          `json:"id"`
	State       string         `json:"state"`
	StateReason string         `json:"state_reason"`
	Counts      map[string]int `json:"counts"`
	Results     []struct {
		Variant int            `json:"variant"`
		Counts  map[string]int `json:"counts"`
		Clicked int            `json:"clicked"`
	} `json:"results"`
}

func (w *world) create(body map[string]any) campaignOut {
	w.t.Helper()
	body["brand"] = w.Brand.Slug
	var c campaignOut
	if code := w.api("POST", "/api/v1/campaigns", body, &c); code != http.StatusCreated {
		w.t.Fatalf("create campaign: %d", code)
	}
	return c
}

func (w *world) get(id int64) campaignOut {
	w.t.Helper()
	var c campaignOut
	if code := w.api("GET", fmt.Sprintf("/api/v1/campaigns/%d", id), nil, &c); code != http.StatusOK {
		w.t.Fatalf("get campaign: %d", code)
	}
	return c
}

func (w *world) schedule(id int64, body map[string]any) {
	w.t.Helper()
	if code := w.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/schedule", id), body, &campaignOut{}); code != http.StatusOK {
		w.t.Fatalf("schedule: %d", code)
	}
}

func (w *world) waitState(id int64, state string) campaignOut {
	w.t.Helper()
	var c campaignOut
	apptest.WaitFor(w.t, 20*time.Second, "campaign "+state, func() bool { c = w.get(id); return c.State == state })
	return c
}

// sentTo counts the texts the carrier got per recipient phone.
func (w *world) sentTo() map[string]int {
	out := map[string]int{}
	for _, m := range w.Twilio.Sent() {
		out[m.To]++
	}
	return out
}

func phone(n int) string { return fmt.Sprintf("+1212555%04d", n) }

// Only the people opted in to the brand's marketing get the text, each
// exactly once (a person with two opted-in phones on one of them),
// personalised; the campaign completes with every recipient final.
func TestCampaignReachesEachOptedInPersonOnce(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 20; i++ {
		w.person(fmt.Sprintf("Person%d Test", i), map[string]any{"tier": "gold"}, "", "opted_in", phone(i))
	}
	w.person("Two Phones", nil, "", "opted_in", phone(100), phone(101))
	for i := 200; i < 205; i++ {
		w.person("Opted Out", nil, "", "opted_out", phone(i))
	}
	for i := 300; i < 305; i++ {
		w.person("No Consent", nil, "", "", phone(i))
	}
	c := w.create(map[string]any{"name": "Spring offer", "body": "Hi {{default \"there\" .FirstName}}, 20% off this week. Reply STOP to opt out."})
	var est campaign.Estimate
	if code := w.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/estimate", c.ID), map[string]any{}, &est); code != 200 || est.Eligible != 21 || est.Segments != 21 {
		t.Fatalf("estimate: %d %+v", code, est)
	}
	w.schedule(c.ID, nil)
	got := w.waitState(c.ID, "completed")
	sent := w.sentTo()
	if len(sent) != 21 {
		t.Fatalf("texts went to %d phones, want 21: %v", len(sent), sent)
	}
	for p, n := range sent {
		if n != 1 {
			t.Errorf("%s got %d texts", p, n)
		}
	}
	if sent[phone(100)]+sent[phone(101)] != 1 {
		t.Error("the person with two phones was not texted exactly once")
	}
	for i := 200; i < 305; i++ {
		if sent[phone(i)] > 0 {
			t.Errorf("%s (opted out or no consent) was texted", phone(i))
		}
	}
	for _, m := range w.Twilio.Sent() {
		if m.To == phone(3) && !strings.HasPrefix(m.Body, "Hi Person3,") {
			t.Errorf("not personalised: %q", m.Body)
		}
	}
	if done := got.Counts["sent"] + got.Counts["delivered"]; done != 21 || got.Counts["queued"] != 0 {
		t.Fatalf("counts %v", got.Counts)
	}
	// Scheduling it again, or once more after completion, sends nothing.
	if code := w.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/schedule", c.ID), map[string]any{}, nil); code != http.StatusConflict {
		t.Fatalf("scheduling a completed campaign: %d, want 409", code)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(w.Twilio.Sent()); n != 21 {
		t.Fatalf("%d texts after completion", n)
	}
	// A recipient who texts STOP after the campaign's text: the ledger's
	// opt-out names the campaign; an earlier opt-out, with no campaign text
	// before it, names none.
	if code, body := w.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM00000000000000000000000000000s09", phone(3), "STOP")); code != 200 {
		t.Fatalf("STOP: %d %s", code, body)
	}
	for p, want := range map[string]any{phone(3): float64(c.ID), phone(200): nil} {
		var ledger struct {
			Ledger []struct {
				Status     string
				CampaignID any `json:"campaign_id"`
			}
		}
		apptest.WaitFor(t, 5*time.Second, "the opt-out in the ledger", func() bool {
			ledger.Ledger = nil
			w.api("GET", "/api/v1/consent?brand="+w.Brand.Slug+"&phone="+url.QueryEscape(p), nil, &ledger)
			return len(ledger.Ledger) > 0 && ledger.Ledger[len(ledger.Ledger)-1].Status == "opted_out"
		})
		if got := ledger.Ledger[len(ledger.Ledger)-1].CampaignID; got != want {
			t.Errorf("%s's opt-out attributed to %v, want %v", p, got, want)
		}
	}
}

// Pause stops sending at once; resume goes on where it stopped; a STOP
// texted while paused keeps that phone's text from going; every other
// recipient gets exactly one text.
func TestPauseResumeAndStopMidCampaign(t *testing.T) {
	w := newWorld(t)
	const n = 60
	for i := 0; i < n; i++ {
		w.person("P", nil, "", "opted_in", phone(i))
	}
	w.Twilio.SetLatency(30 * time.Millisecond) // slow enough to pause midway
	c := w.create(map[string]any{"name": "Midweek", "body": "Midweek deal for you"})
	w.schedule(c.ID, nil)
	apptest.WaitFor(t, 10*time.Second, "some texts sent", func() bool { return w.Twilio.Count() >= 5 })
	if code := w.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/pause", c.ID), nil, &campaignOut{}); code != http.StatusOK {
		t.Fatalf("pause: %d", code)
	}
	time.Sleep(300 * time.Millisecond) // texts already at the carrier finish
	atPause := w.Twilio.Count()
	time.Sleep(700 * time.Millisecond)
	if after := w.Twilio.Count(); after != atPause {
		t.Fatalf("%d texts went while paused", after-atPause)
	}
	if atPause >= n {
		t.Fatalf("everything was sent before the pause (%d); the test needs a slower carrier", atPause)
	}
	if st := w.get(c.ID).State; st != "paused" {
		t.Fatalf("state %s", st)
	}
	// A recipient not yet texted says STOP.
	sent := w.sentTo()
	stopper := ""
	for i := n - 1; i >= 0; i-- {
		if sent[phone(i)] == 0 {
			stopper = phone(i)
			break
		}
	}
	if code, body := w.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound("SM00000000000000000000000000000s01", stopper, "STOP")); code != 200 {
		t.Fatalf("STOP: %d %s", code, body)
	}
	apptest.WaitFor(t, 5*time.Second, "the STOP recorded", func() bool {
		return w.Count(t, `SELECT count(*) FROM consent_events WHERE phone = $1 AND status = 'opted_out'`, stopper) > 0
	})
	if code := w.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/resume", c.ID), nil, &campaignOut{}); code != http.StatusOK {
		t.Fatalf("resume: %d", code)
	}
	var got campaignOut
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = w.get(c.ID); got.State == "completed" {
			break
		}
	}
	if got.State != "completed" {
		t.Fatalf("not completed a minute after the resume: %+v", got)
	}
	for i := 0; i < n; i++ {
		p := phone(i)
		want := 1
		if p == stopper {
			want = 0
		}
		campaignTexts := 0
		for _, m := range w.Twilio.Sent() {
			if m.To == p && m.Body == "Midweek deal for you" {
				campaignTexts++
			}
		}
		if campaignTexts != want {
			t.Errorf("%s got %d campaign texts, want %d", p, campaignTexts, want)
		}
	}
	if got.Counts["suppressed"] != 1 || got.Counts["sent"]+got.Counts["delivered"] != n-1 {
		t.Fatalf("counts %v", got.Counts)
	}
}

// Four variants split the recipients evenly and the same way on every
// count; tracked links are unique per recipient, redirect and are counted.
func TestVariantsAndTrackedLinks(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 40; i++ {
		w.person("V", nil, "", "opted_in", phone(i))
	}
	var variants []map[string]string
	for v := 0; v < 4; v++ {
		variants = append(variants, map[string]string{"body": fmt.Sprintf("Variant %d: {{link \"https://example.com/offer?v=%d\"}}", v, v)})
	}
	c := w.create(map[string]any{"name": "AB", "variants": variants, "track_links": true})
	w.schedule(c.ID, nil)
	got := w.waitState(c.ID, "completed")
	if len(got.Results) != 4 {
		t.Fatalf("results %+v", got.Results)
	}
	for _, r := range got.Results {
		if n := r.Counts["sent"] + r.Counts["delivered"]; n != 10 {
			t.Errorf("variant %d reached %d, want 10", r.Variant, n)
		}
	}
	link := regexp.MustCompile(regexp.QuoteMeta(w.PublicURL) + `/l/([A-Za-z0-9_-]{12})$`)
	codes := map[string]bool{}
	var first string
	for _, m := range w.Twilio.Sent() {
		mm := link.FindStringSubmatch(m.Body)
		if mm == nil {
			t.Fatalf("no tracked link in %q", m.Body)
		}
		if codes[mm[1]] {
			t.Fatalf("code %s sent twice", mm[1])
		}
		codes[mm[1]] = true
		if first == "" && strings.HasPrefix(m.Body, "Variant 2:") {
			first = mm[0]
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := 0; i < 2; i++ {
		resp, err := client.Get(first)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/offer?v=2" {
			t.Fatalf("link: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, err := client.Get(w.PublicURL + "/l/AAAAAAAAAAAA"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown code: %v %v", resp, err)
	}
	got = w.get(c.ID)
	if got.Results[2].Clicked != 1 || got.Results[0].Clicked != 0 {
		t.Fatalf("clicks per variant: %+v", got.Results)
	}
}

// Filters narrow the audience with parameterised SQL: a hostile value is
// only a value; a saved segment is read again when the campaign starts.
func TestSegmentsFilterSafely(t *testing.T) {
	w := newWorld(t)
	w.person("Gold Paris", map[string]any{"tier": "gold", "city": "Paris", "points": 1500}, "", "opted_in", phone(1))
	w.person("Gold Lyon", map[string]any{"tier": "Gold", "city": "Lyon", "points": 900}, "", "opted_in", phone(2))
	w.person("Silver Paris", map[string]any{"tier": "silver", "city": "Paris", "points": 3000}, "", "opted_in", phone(3))
	w.person("Gold No Consent", map[string]any{"tier": "gold", "city": "Paris"}, "", "", phone(4))
	count := func(filter map[string]any) int {
		t.Helper()
		var g struct {
			ID    int64 `json:"id"`
			Count struct {
				Eligible int `json:"eligible"`
			} `json:"count"`
		}
		if code := w.api("POST", "/api/v1/segments", map[string]any{"brand": w.Brand.Slug, "name": "s", "filter": filter}, &g); code != http.StatusCreated {
			t.Fatalf("segment %v: %d", filter, code)
		}
		return g.Count.Eligible
	}
	for _, c := range []struct {
		filter map[string]any
		want   int
	}{
		{map[string]any{}, 3},
		{map[string]any{"tiers": []string{"gold"}}, 2},
		{map[string]any{"attributes": map[string]any{"city": map[string]any{"eq": "Paris"}}}, 2},
		{map[string]any{"attributes": map[string]any{"points": map[string]any{"gte": 1000, "lt": 2000}}}, 1},
		{map[string]any{"attributes": map[string]any{"city": map[string]any{"in": []string{"Lyon", "Nice"}}}}, 1},
		{map[string]any{"attributes": map[string]any{"points": map[string]any{"exists": false}}}, 0},
		{map[string]any{"attributes": map[string]any{"city": map[string]any{"eq": "'; DROP TABLE contacts; --"}}}, 0},
		{map[string]any{"tiers": []string{"gold') OR true; --"}}, 0},
	} {
		if got := count(c.filter); got != c.want {
			t.Errorf("%v: %d, want %d", c.filter, got, c.want)
		}
	}
	if n := w.Count(t, `SELECT count(*) FROM contacts`); n != 4 {
		t.Fatalf("%d contacts after the hostile filter", n)
	}
	var bad struct {
		Error struct {
			Field string `json:"field"`
		} `json:"error"`
	}
	if code := w.api("POST", "/api/v1/segments", map[string]any{"brand": w.Brand.Slug, "name": "s",
		"filter": map[string]any{"attributes": map[string]any{"points": map[string]any{"between": 1}}}}, &bad); code != http.StatusBadRequest || bad.Error.Field != "filter.attributes.points.between" {
		t.Fatalf("an unknown operator: %d %+v", code, bad)
	}
}

// "At 10:00 in each recipient's local time": each text waits for 10:00 of
// its recipient's own zone.
func TestLocalTimeScheduling(t *testing.T) {
	w := newWorld(t)
	tokyo := w.person("T", nil, "Asia/Tokyo", "opted_in", phone(1))
	ny := w.person("N", nil, "America/New_York", "opted_in", phone(2))
	c := w.create(map[string]any{"name": "Morning", "body": "Good morning"})
	w.schedule(c.ID, map[string]any{"local_time": "10:00"})
	at := func(contactID int64) time.Time {
		var sendAt time.Time
		apptest.WaitFor(t, 10*time.Second, "the text stored", func() bool {
			return w.Store.Pool.QueryRow(context.Background(), `SELECT m.send_at FROM campaign_recipients r JOIN messages m ON m.id = r.message_id
				WHERE r.campaign_id = $1 AND r.contact_id = $2`, c.ID, contactID).Scan(&sendAt) == nil
		})
		return sendAt
	}
	for id, zone := range map[int64]string{tokyo: "Asia/Tokyo", ny: "America/New_York"} {
		loc, _ := time.LoadLocation(zone)
		got := at(id).In(loc)
		if got.Hour() != 10 || got.Minute() != 0 || got.Before(time.Now()) || got.After(time.Now().Add(24*time.Hour)) {
			t.Errorf("%s: the text goes at %v, want the next 10:00 there", zone, got)
		}
	}
	if got := w.get(c.ID); got.State != "running" || got.Counts["queued"] != 2 {
		t.Fatalf("before 10:00: %+v", got)
	}
	if w.Twilio.Count() != 0 {
		t.Fatal("a text went before its local time")
	}
}

func TestNextLocal(t *testing.T) {
	t.Parallel()
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct{ from, want string }{
		{"2026-03-07 09:00", "2026-03-07 10:00"},
		{"2026-03-07 10:00", "2026-03-07 10:00"},
		{"2026-03-07 10:01", "2026-03-08 10:00"}, // across the March DST change
		{"2026-11-01 23:00", "2026-11-02 10:00"},
	} {
		from, _ := time.ParseInLocation("2006-01-02 15:04", c.from, ny)
		want, _ := time.ParseInLocation("2006-01-02 15:04", c.want, ny)
		if got := campaign.NextLocal(from, ny, 10*time.Hour); !got.Equal(want) {
			t.Errorf("from %s: %v, want %v", c.from, got, want)
		}
	}
}

// A preview fills the texts in for any one person and says whether they
// would get the campaign now and why not; a test send texts one variant to
// an opted-in phone, and never to one that opted out or never opted in.
func TestPreviewAndTestSend(t *testing.T) {
	w := newWorld(t)
	ana := w.person("Ana López", map[string]any{"favorite_dish": "paella", "tier": "gold"}, "", "opted_in", phone(1))
	w.person("Bo", map[string]any{"tier": "gold"}, "", "opted_out", phone(2))
	w.person("Cy", map[string]any{"tier": "silver"}, "", "opted_in", phone(3))
	w.person("Di", map[string]any{"tier": "gold"}, "", "", phone(4))
	c := w.create(map[string]any{"name": "Dish", "track_links": true, "audience": map[string]any{"tiers": []string{"gold"}},
		"variants": []map[string]string{
			{"body": `Hi {{default "there" .FirstName}}, your {{default "favourite dish" .Attributes.favorite_dish}} is back: {{link "https://example.com/menu"}}`},
			{"body": `{{title .Attributes.favorite_dish}} tonight?`},
		}})
	type text struct {
		Variant  int      `json:"variant"`
		Body     string   `json:"body"`
		Segments int      `json:"segments"`
		Problem  string   `json:"problem"`
		Missing  []string `json:"missing"`
	}
	var p struct {
		ContactID  int64  `json:"contact_id"`
		Phone      string `json:"phone"`
		InAudience bool   `json:"in_audience"`
		Eligible   bool   `json:"eligible"`
		Excluded   string `json:"excluded"`
		Texts      []text `json:"texts"`
	}
	preview := func(body map[string]any) int {
		p.Texts, p.Excluded, p.Eligible, p.InAudience = nil, "", false, false
		return w.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/preview", c.ID), body, &p)
	}
	if code := preview(map[string]any{"contact_id": ana}); code != http.StatusOK || !p.Eligible || !p.InAudience || p.Excluded != "" || len(p.Texts) != 2 {
		t.Fatalf("Ana: %d %+v", code, p)
	}
	if want := "Hi Ana, your paella is back: " + w.PublicURL + "/l/xxxxxxxxxxxx"; p.Texts[0].Body != want || p.Texts[0].Problem != "" || p.Texts[0].Segments != 1 {
		t.Errorf("variant 0 for Ana: %+v, want %q", p.Texts[0], want)
	}
	if p.Texts[1].Body != "Paella tonight?" {
		t.Errorf("variant 1 for Ana: %+v", p.Texts[1])
	}
	for _, tc := range []struct {
		who      map[string]any
		in       bool
		excluded string
	}{
		{map[string]any{"phone": "(212) 555-0002"}, true, "opted_out"},
		{map[string]any{"phone": phone(3)}, false, "not_in_audience"},
		{map[string]any{"phone": phone(4)}, true, "no_marketing_consent"},
		{map[string]any{"phone": phone(9)}, false, "not_in_audience"}, // nobody has it
	} {
		if code := preview(tc.who); code != http.StatusOK || p.Eligible || p.InAudience != tc.in || p.Excluded != tc.excluded {
			t.Errorf("%v: %d %+v; want in_audience=%v excluded=%s", tc.who, code, p, tc.in, tc.excluded)
		}
	}
	// Without the attribute, variant 1 loses a word: the preview says which.
	preview(map[string]any{"phone": phone(9)})
	if p.Texts[0].Body != "Hi there, your favourite dish is back: "+w.PublicURL+"/l/xxxxxxxxxxxx" || len(p.Texts[0].Missing) != 0 ||
		p.Texts[1].Body != "tonight?" || len(p.Texts[1].Missing) != 1 || p.Texts[1].Missing[0] != ".Attributes.favorite_dish" {
		t.Errorf("a stranger: %+v", p.Texts)
	}
	if code := preview(map[string]any{"phone": "call me"}); code != http.StatusBadRequest {
		t.Errorf("a bad phone: %d", code)
	}

	var sent struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	testSend := func(ph string, v int) int {
		return w.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/test", c.ID), map[string]any{"phone": ph, "variant": v}, &sent)
	}
	if code := testSend(phone(1), 1); code != http.StatusAccepted || sent.ID == 0 {
		t.Fatalf("test send: %d %+v", code, sent)
	}
	apptest.WaitFor(t, 10*time.Second, "the test text at the carrier", func() bool { return w.sentTo()[phone(1)] == 1 })
	if m := w.Twilio.Sent()[0]; m.Body != "Paella tonight?" {
		t.Errorf("test text %q", m.Body)
	}
	for _, ph := range []string{phone(2), phone(4)} {
		if code := testSend(ph, 0); code != http.StatusBadRequest {
			t.Errorf("test send to %s: %d, want 400", ph, code)
		}
	}
	if code := testSend(phone(1), 2); code != http.StatusBadRequest {
		t.Errorf("variant 2 of 2: %d", code)
	}
	var origin, ref string
	if err := w.Store.Pool.QueryRow(context.Background(), `SELECT origin, origin_ref FROM messages WHERE id = $1`, sent.ID).Scan(&origin, &ref); err != nil ||
		origin != "campaign_test" || ref != fmt.Sprint(c.ID) {
		t.Errorf("test text marked %q %q, %v", origin, ref, err)
	}
	// The draft is untouched: nobody is a recipient yet.
	if got := w.get(c.ID); got.State != "draft" {
		t.Errorf("campaign %s after a test", got.State)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(w.Twilio.Sent()); n != 1 {
		t.Errorf("%d texts at the carrier, want the one test", n)
	}
}

// A campaign can ask a question: every text asks it, the replies are
// read as answers, and the results split by variant.
func TestCampaignAsksAQuestion(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 4; i++ {
		w.person(fmt.Sprintf("Q%d Test", i), nil, "", "opted_in", phone(600+i))
	}
	var c struct {
		ID         int64 `json:"id"`
		QuestionID int64 `json:"question_id"`
	}
	body := map[string]any{"brand": w.Brand.Slug, "name": "Menu poll", "variants": []map[string]string{{"body": "Rate our new menu 1-5"},
		{"body": "How do you like the new menu? Reply 1 to 5"}}, "question": map[string]any{"kind": "rating"}}
	if code := w.api("POST", "/api/v1/campaigns", body, &c); code != http.StatusCreated || c.QuestionID == 0 {
		t.Fatalf("create: %d %+v", code, c)
	}
	w.schedule(c.ID, nil)
	w.waitState(c.ID, "completed")
	apptest.WaitFor(t, 10*time.Second, "every question's text accepted", func() bool {
		return w.Count(t, `SELECT count(*) FROM question_asks a JOIN messages m ON m.id = a.message_id WHERE a.origin = 'campaign'
			AND m.sent_at IS NOT NULL`) == 4
	})
	for i := 0; i < 4; i++ {
		if code, _ := w.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(fmt.Sprintf("SM%032d", 600+i), phone(600+i), fmt.Sprint(2+i%3))); code != http.StatusOK {
			t.Fatalf("reply: %d", code)
		}
	}
	apptest.WaitFor(t, 10*time.Second, "the four answers read", func() bool {
		return w.Count(t, `SELECT count(*) FROM question_asks WHERE question_id = $1 AND state = 'answered'`, c.QuestionID) == 4
	})
	var res struct {
		Responses int                        `json:"responses"`
		ByVariant map[string]json.RawMessage `json:"by_variant"`
	}
	if code := w.api("GET", fmt.Sprintf("/api/v1/questions/%d/results", c.QuestionID), nil, &res); code != http.StatusOK ||
		res.Responses != 4 || len(res.ByVariant) != 2 {
		t.Fatalf("results: %d %+v", code, res)
	}
}
