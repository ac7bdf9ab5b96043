package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

const apiKey = "pk_test_triggers_0123456789abcdef"

type world struct {
	*apptest.Env
	t   *testing.T
	sid int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	t.Parallel()
	env := apptest.New(t, apptest.Options{Worker: true, App: func(o *app.Options) { o.TriggerEvery = 50 * time.Millisecond }})
	if _, err := env.Store.CreateAPIKey(context.Background(), "trigger test", apiKey); err != nil {
		t.Fatal(err)
	}
	return &world{Env: env, t: t}
}

type reply struct {
	Status int
	Raw    string
}

func (w *world) call(method, path string, body any, header ...string) reply {
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
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := w.Client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Raw: string(raw)}
}

// api calls and decodes the answer's data into out, failing unless the
// status is want.
func (w *world) api(want int, method, path string, body, out any, header ...string) {
	w.t.Helper()
	r := w.call(method, path, body, header...)
	if r.Status != want {
		w.t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Raw, want)
	}
	if out == nil {
		return
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &env); err != nil || json.Unmarshal(env.Data, out) != nil {
		w.t.Fatalf("%s %s: cannot decode %s", method, path, r.Raw)
	}
}

func (w *world) person(name, loyalty, phone string, attrs map[string]any) int64 {
	w.t.Helper()
	a, _ := json.Marshal(attrs)
	var id int64
	if err := w.Store.Pool.QueryRow(context.Background(), `INSERT INTO contacts (name, loyalty_id, attributes, timezone)
		VALUES ($1, nullif($2, ''), $3, 'America/New_York') RETURNING id`, name, loyalty, a).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.Store.Pool.Exec(context.Background(), `INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2)`, phone, id); err != nil {
		w.t.Fatal(err)
	}
	return id
}

// text posts a signed inbound text from phone.
func (w *world) text(from, body string) {
	w.t.Helper()
	w.sid++
	sid := fmt.Sprintf("SM%032d", w.sid)
	if code, resp := w.PostForm(w.t, "/webhooks/twilio/sms", apptest.Inbound(sid, from, body)); code != http.StatusOK {
		w.t.Fatalf("inbound %q: %d %s", body, code, resp)
	}
}

// sentTo waits for a text to phone containing part at the fake Twilio.
func (w *world) sentTo(phone, part string) {
	w.t.Helper()
	apptest.WaitFor(w.t, 20*time.Second, fmt.Sprintf("a text to %s saying %q", phone, part), func() bool {
		for _, m := range w.Twilio.Sent() {
			if m.To == phone && strings.Contains(m.Body, part) {
				return true
			}
		}
		return false
	})
}

func (w *world) textsTo(phone string) int {
	n := 0
	for _, m := range w.Twilio.Sent() {
		if m.To == phone {
			n++
		}
	}
	return n
}

type triggerOut struct {
	ID       int64 `json:"id"`
	Question *struct {
		ID int64 `json:"id"`
	} `json:"question"`
	Counts map[string]int `json:"counts"`
}

type eventOut struct {
	ID        int64 `json:"id"`
	Matched   int   `json:"matched_triggers"`
	Duplicate bool  `json:"duplicate"`
}

// TestEventToAnsweredQuestion is the whole loop: an event → the text at
// the fake Twilio → a signed reply → the parsed answer → a follow-up, a
// reopened conversation with high priority, and results.
func TestEventToAnsweredQuestion(t *testing.T) {
	w := newWorld(t)
	const phone = "+12125550101"
	ana := w.person("Ana Lima", "DA-1", phone, map[string]any{"tier": "gold"})
	var tr triggerOut
	w.api(http.StatusCreated, "POST", "/api/v1/triggers", map[string]any{
		"brand": "demo-air", "name": "How was the flight", "event_type": "flight_completed",
		"conditions": `data.cabin == "business" && attributes.tier in ["gold", "platinum"]`, "delay": "0s",
		"template": "Hi {{.FirstName}}, how was flight {{.Event.flight}}? Reply 1-5", "purpose": "conversational", "cooldown": "720h",
		"question": map[string]any{"kind": "rating", "scale": 5, "follow_ups": map[string]string{
			"positive": "Thank you!", "negative": "Sorry to hear that, {{.FirstName}}. Someone from our team will text you shortly."}},
	}, &tr)
	if tr.ID == 0 || tr.Question == nil || tr.Question.ID == 0 {
		t.Fatalf("trigger %+v: want its id and question.id", tr)
	}
	// A condition that does not compile is refused, naming the field.
	bad := w.call("POST", "/api/v1/triggers", map[string]any{"brand": "demo-air", "event_type": "x", "conditions": "data.cabin ==",
		"template": "hi", "purpose": "conversational"})
	if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Raw, `"field":"conditions"`) {
		t.Fatalf("bad condition: %d %s", bad.Status, bad.Raw)
	}

	ev := map[string]any{"type": "flight_completed", "loyalty_id": "DA-1", "data": map[string]any{"cabin": "business", "flight": "DA101"},
		"idempotency_key": "flight-DA101-ana"}
	var first, again eventOut
	w.api(http.StatusAccepted, "POST", "/api/v1/events", ev, &first)
	w.api(http.StatusAccepted, "POST", "/api/v1/events", ev, &again)
	if first.Matched != 1 || first.ID == 0 || again.ID != first.ID || !again.Duplicate {
		t.Fatalf("event %+v then %+v: want one event matching one rule, the repeat the same event", first, again)
	}
	w.sentTo(phone, "Hi Ana, how was flight DA101? Reply 1-5")
	apptest.WaitFor(t, 10*time.Second, "the question's text accepted by the carrier", func() bool {
		return w.Count(t, `SELECT count(*) FROM messages m JOIN question_asks a ON a.message_id = m.id WHERE m.sent_at IS NOT NULL`) == 1
	})
	if n := w.Count(t, `SELECT count(*) FROM messages WHERE origin = 'trigger' AND origin_ref = $1`, fmt.Sprint(tr.ID)); n != 1 {
		t.Fatalf("%d texts tagged with the rule, want 1", n)
	}

	w.text(phone, "1 - lost my bag")
	apptest.WaitFor(t, 10*time.Second, "the answer read", func() bool {
		return w.Count(t, `SELECT count(*) FROM question_asks WHERE state = 'answered' AND value = 1 AND comment = 'lost my bag'
			AND negative = 'low_rating'`) == 1
	})
	w.sentTo(phone, "Sorry to hear that, Ana.")
	var convs []struct {
		ID        int64  `json:"id"`
		ContactID int64  `json:"contact_id"`
		Status    string `json:"status"`
		Priority  string `json:"priority"`
		Reason    string `json:"reason"`
	}
	w.api(http.StatusOK, "GET", "/api/v1/conversations?brand=demo-air", nil, &convs)
	if len(convs) != 1 || convs[0].Priority != "high" || convs[0].Reason != "low_rating" || convs[0].Status != "open" {
		t.Fatalf("conversations %+v: want the one open with high priority for a low rating", convs)
	}

	var res struct {
		Responses    int              `json:"responses"`
		Asked        int              `json:"asked"`
		ResponseRate float64          `json:"response_rate"`
		Distribution map[string]int64 `json:"distribution"`
		Mean         *float64         `json:"mean"`
		Negative     int              `json:"negative"`
		FreeText     []struct {
			Comment string `json:"comment"`
		} `json:"free_text"`
	}
	w.api(http.StatusOK, "GET", fmt.Sprintf("/api/v1/questions/%d/results", tr.Question.ID), nil, &res)
	if res.Responses != 1 || res.Asked != 1 || res.ResponseRate != 1 || res.Distribution["1"] != 1 || res.Mean == nil || *res.Mean != 1 ||
		res.Negative != 1 || len(res.FreeText) != 1 || res.FreeText[0].Comment != "lost my bag" {
		t.Fatalf("results %+v", res)
	}
	csv := w.call("GET", fmt.Sprintf("/api/v1/questions/%d/results", tr.Question.ID), nil, "Accept", "text/csv")
	if csv.Status != http.StatusOK || !strings.Contains(csv.Raw, "lost my bag") || !strings.HasPrefix(csv.Raw, "ask_id,") {
		t.Fatalf("results CSV: %d %s", csv.Status, csv.Raw)
	}
	var answers []struct {
		Value   *int   `json:"value"`
		Comment string `json:"comment"`
		State   string `json:"state"`
	}
	w.api(http.StatusOK, "GET", fmt.Sprintf("/api/v1/contacts/%d/answers", ana), nil, &answers)
	if len(answers) != 1 || answers[0].Value == nil || *answers[0].Value != 1 || answers[0].State != "answered" {
		t.Fatalf("answers %+v", answers)
	}

	// The next flight within the cooldown: skipped, saying why.
	ev["idempotency_key"] = "flight-DA202-ana"
	ev["data"] = map[string]any{"cabin": "business", "flight": "DA202"}
	w.api(http.StatusAccepted, "POST", "/api/v1/events", ev, &first)
	apptest.WaitFor(t, 10*time.Second, "the second run skipped for the cooldown", func() bool {
		return w.Count(t, `SELECT count(*) FROM trigger_runs WHERE state = 'skipped' AND reason = 'cooldown' AND detail <> ''`) == 1
	})
	// Economy matches nothing.
	ev["idempotency_key"], ev["data"] = "flight-DA303-ana", map[string]any{"cabin": "economy"}
	w.api(http.StatusAccepted, "POST", "/api/v1/events", ev, &first)
	if first.Matched != 0 {
		t.Fatalf("an economy flight matched %d rules", first.Matched)
	}
	w.api(http.StatusOK, "GET", fmt.Sprintf("/api/v1/triggers/%d", tr.ID), nil, &tr)
	if tr.Counts["sent"] != 1 || tr.Counts["skipped:cooldown"] != 1 {
		t.Fatalf("counts %+v", tr.Counts)
	}
	if n := w.textsTo(phone); n != 2 {
		t.Fatalf("%d texts to Ana, want the question and its follow-up", n)
	}
}

func TestEventsAPI(t *testing.T) {
	w := newWorld(t)
	w.person("Ben Ode", "DA-2", "+12125550102", nil)
	var tr triggerOut
	w.api(http.StatusCreated, "POST", "/api/v1/triggers", map[string]any{"brand": "demo-air", "event_type": "order_ready",
		"delay": map[string]any{"days": 1, "at_local": "10:00"}, "template": "Your order {{.Event.order}} is ready", "purpose": "conversational"}, &tr)

	// Unknown member: 404; with create_contact and a phone, created.
	nobody := w.call("POST", "/api/v1/events", map[string]any{"type": "order_ready", "loyalty_id": "NOPE"})
	if nobody.Status != http.StatusNotFound || !strings.Contains(nobody.Raw, "contact_not_found") {
		t.Fatalf("unknown member: %d %s", nobody.Status, nobody.Raw)
	}
	var created eventOut
	w.api(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"type": "order_ready", "phone": "(212) 555-0199",
		"create_contact": true, "data": map[string]any{"order": "A7"}}, &created)
	if created.Matched != 1 || w.Count(t, `SELECT count(*) FROM contact_phones WHERE phone = '+12125550199'`) != 1 {
		t.Fatalf("created %+v", created)
	}
	// The Idempotency-Key header keys the event too.
	var h1, h2 eventOut
	w.api(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"type": "order_ready", "loyalty_id": "DA-2"}, &h1, "Idempotency-Key", "hdr-1")
	w.api(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"type": "order_ready", "loyalty_id": "DA-2"}, &h2, "Idempotency-Key", "hdr-1")
	if h1.ID != h2.ID || w.Count(t, `SELECT count(*) FROM events WHERE idempotency_key = 'hdr-1'`) != 1 {
		t.Fatalf("header key: %+v %+v", h1, h2)
	}
	// Bad input names the field and stores nothing.
	before := w.Count(t, `SELECT count(*) FROM events`)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"loyalty_id": "DA-2"}, "type"},
		{map[string]any{"type": "order_ready"}, "loyalty_id"},
		{map[string]any{"type": "order_ready", "loyalty_id": "DA-2", "phone": "+12125550102"}, "loyalty_id"},
		{map[string]any{"type": "order_ready", "phone": "12"}, "phone"},
		{map[string]any{"type": "order_ready", "loyalty_id": "DA-2", "occurred_at": time.Now().Add(time.Hour)}, "occurred_at"},
		{map[string]any{"type": "order_ready", "loyalty_id": "DA-2", "data": []int{1}}, "data"},
	} {
		r := w.call("POST", "/api/v1/events", c.body)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Raw, `"field":"`+c.field+`"`) {
			t.Errorf("%v: %d %s, want 400 naming %s", c.body, r.Status, r.Raw, c.field)
		}
	}
	if after := w.Count(t, `SELECT count(*) FROM events`); after != before {
		t.Fatalf("bad events stored %d rows", after-before)
	}

	// A batch answers per event, in order; the bad one changes nothing else.
	var batch struct {
		Data     []eventOut `json:"data"`
		Accepted int        `json:"accepted"`
		Rejected int        `json:"rejected"`
	}
	r := w.call("POST", "/api/v1/events:batch", map[string]any{"brand": "demo-air", "events": []map[string]any{
		{"type": "order_ready", "loyalty_id": "DA-2", "idempotency_key": "b1"},
		{"type": "order_ready", "loyalty_id": "NOPE", "idempotency_key": "b2"},
		{"type": "order_ready", "loyalty_id": "DA-2", "idempotency_key": "b1"},
		{"type": "", "loyalty_id": "DA-2"},
	}})
	if r.Status != http.StatusAccepted || json.Unmarshal([]byte(r.Raw), &batch) != nil {
		t.Fatalf("batch: %d %s", r.Status, r.Raw)
	}
	if batch.Accepted != 2 || batch.Rejected != 2 || len(batch.Data) != 4 || batch.Data[0].ID == 0 || batch.Data[2].ID != batch.Data[0].ID ||
		!batch.Data[2].Duplicate || !strings.Contains(r.Raw, "contact_not_found") {
		t.Fatalf("batch answers %s", r.Raw)
	}
	if n := w.Count(t, `SELECT count(*) FROM events WHERE idempotency_key = 'b1'`); n != 1 {
		t.Fatalf("b1 stored %d times", n)
	}
	tooMany := make([]map[string]any, 1001)
	for i := range tooMany {
		tooMany[i] = map[string]any{"type": "order_ready", "loyalty_id": "DA-2"}
	}
	if r := w.call("POST", "/api/v1/events:batch", map[string]any{"events": tooMany}); r.Status != http.StatusBadRequest {
		t.Fatalf("1,001 events: %d", r.Status)
	}

	// A scheduled run: due tomorrow at 10:00 in the person's zone.
	var run struct {
		DueAt time.Time `json:"due_at"`
		State string    `json:"state"`
	}
	var runs []json.RawMessage
	w.api(http.StatusOK, "GET", fmt.Sprintf("/api/v1/triggers/%d/runs?limit=1", tr.ID), nil, &runs)
	if len(runs) != 1 || json.Unmarshal(runs[0], &run) != nil {
		t.Fatalf("runs %s", runs)
	}
	ny, _ := time.LoadLocation("America/New_York")
	if run.State != "scheduled" || run.DueAt.In(ny).Hour() != 10 || !run.DueAt.After(time.Now()) {
		t.Fatalf("run %+v: want scheduled for 10:00 New York time", run)
	}

	// The dry run says what would happen, and stores nothing.
	var dry struct {
		Matched   bool   `json:"matched"`
		WouldSend bool   `json:"would_send"`
		Body      string `json:"body"`
		Phone     string `json:"phone"`
	}
	n := w.Count(t, `SELECT count(*) FROM trigger_runs`)
	w.api(http.StatusOK, "POST", fmt.Sprintf("/api/v1/triggers/%d/test", tr.ID), map[string]any{"loyalty_id": "DA-2",
		"data": map[string]any{"order": "B9"}}, &dry)
	if !dry.Matched || !dry.WouldSend || dry.Body != "Your order B9 is ready" || dry.Phone != "+12125550102" {
		t.Fatalf("dry run %+v", dry)
	}
	if w.Count(t, `SELECT count(*) FROM trigger_runs`) != n {
		t.Fatal("the dry run stored a run")
	}
	// An event three days late is dropped with the reason.
	var late eventOut
	w.api(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"type": "order_ready", "loyalty_id": "DA-2",
		"occurred_at": time.Now().Add(-72 * time.Hour)}, &late)
	if w.Count(t, `SELECT count(*) FROM trigger_runs WHERE event_id = $1 AND state = 'dropped' AND reason = 'late'
		AND detail LIKE 'arrived % late%'`, late.ID) != 1 {
		t.Fatal("a late event was not dropped with its reason")
	}
	// Delete: the rule is gone and matches nothing.
	w.api(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/triggers/%d", tr.ID), nil, nil)
	if r := w.call("GET", fmt.Sprintf("/api/v1/triggers/%d", tr.ID), nil); r.Status != http.StatusNotFound {
		t.Fatalf("deleted rule: %d", r.Status)
	}
}

// TestOneQuestionAtATimeAndKeywordsWin: a second rule's question waits for
// the first's answer; HELP is not an answer; STOP closes the question and
// nothing more is sent.
func TestOneQuestionAtATimeAndKeywordsWin(t *testing.T) {
	w := newWorld(t)
	const phone = "+12125550103"
	w.person("Cy Park", "DA-3", phone, nil)
	for _, ty := range []string{"stay_completed", "meal_served"} {
		w.api(http.StatusCreated, "POST", "/api/v1/triggers", map[string]any{"brand": "demo-air", "event_type": ty, "delay": "0s",
			"template": "Did you enjoy your " + ty + "? Reply YES or NO", "purpose": "conversational",
			"question": map[string]any{"kind": "yes_no", "no_is_negative": true}}, nil)
	}
	w.api(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"type": "stay_completed", "loyalty_id": "DA-3"}, nil)
	w.sentTo(phone, "stay_completed")
	w.api(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"type": "meal_served", "loyalty_id": "DA-3"}, nil)
	apptest.WaitFor(t, 10*time.Second, "the second question skipped", func() bool {
		return w.Count(t, `SELECT count(*) FROM trigger_runs WHERE reason = 'open_question'`) == 1
	})
	apptest.WaitFor(t, 10*time.Second, "the first question's text accepted", func() bool {
		return w.Count(t, `SELECT count(*) FROM messages m JOIN question_asks a ON a.message_id = m.id WHERE m.sent_at IS NOT NULL`) == 1
	})
	had := w.textsTo(phone)
	w.text(phone, "HELP")
	apptest.WaitFor(t, 10*time.Second, "the help reply", func() bool { return w.textsTo(phone) > had })
	time.Sleep(300 * time.Millisecond)
	if n := w.Count(t, `SELECT count(*) FROM question_asks WHERE state = 'open'`); n != 1 {
		t.Fatalf("after HELP %d open questions, want the question still waiting", n)
	}
	w.text(phone, "nope")
	apptest.WaitFor(t, 10*time.Second, "no read as an unhappy answer", func() bool {
		return w.Count(t, `SELECT count(*) FROM question_asks WHERE state = 'answered' AND choice = 'no' AND negative = 'negative_answer'`) == 1
	})
	var convs []struct {
		Priority string `json:"priority"`
		Reason   string `json:"reason"`
	}
	w.api(http.StatusOK, "GET", "/api/v1/conversations?brand=demo-air", nil, &convs)
	if len(convs) != 1 || convs[0].Priority != "high" || convs[0].Reason != "negative_answer" {
		t.Fatalf("conversations %+v", convs)
	}
	// STOP, then an event: nothing more goes.
	w.text(phone, "STOP")
	apptest.WaitFor(t, 10*time.Second, "the opt-out recorded", func() bool {
		return w.Count(t, `SELECT count(*) FROM consent_events WHERE phone = $1 AND status = 'opted_out'`, phone) > 0
	})
	sent := w.textsTo(phone)
	w.api(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"type": "stay_completed", "loyalty_id": "DA-3"}, nil)
	apptest.WaitFor(t, 10*time.Second, "the run after STOP skipped", func() bool {
		return w.Count(t, `SELECT count(*) FROM trigger_runs WHERE reason = 'opted_out'`) == 1
	})
	time.Sleep(300 * time.Millisecond)
	if got := w.textsTo(phone); got > sent+1 { // the opt-out confirmation may still be on its way
		t.Fatalf("%d texts after STOP (had %d)", got, sent)
	}
}

// An API text can ask a question too: the next text is its answer.
func TestMessageAsksAQuestion(t *testing.T) {
	w := newWorld(t)
	const phone = "+12125550104"
	w.person("Dee Ray", "DA-4", phone, nil)
	bad := w.call("POST", "/api/v1/messages", map[string]any{"brand": "demo-air", "to": phone, "body": "Window or aisle?",
		"question": map[string]any{"kind": "choice", "choices": []string{"Window"}}})
	if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Raw, `"field":"question.choices"`) {
		t.Fatalf("a one-choice question: %d %s", bad.Status, bad.Raw)
	}
	var q struct {
		ID         int64 `json:"id"`
		QuestionID int64 `json:"question_id"`
	}
	w.api(http.StatusAccepted, "POST", "/api/v1/messages", map[string]any{"brand": "demo-air", "to": phone, "body": "Window or aisle?",
		"question": map[string]any{"kind": "choice", "choices": []string{"Window", "Aisle"}, "follow_ups": map[string]string{"positive": "Noted!"}}}, &q)
	if q.QuestionID == 0 {
		t.Fatalf("queued %+v: want the question's id", q)
	}
	w.sentTo(phone, "Window or aisle?")
	apptest.WaitFor(t, 10*time.Second, "the text accepted", func() bool {
		return w.Count(t, `SELECT count(*) FROM messages WHERE id = $1 AND sent_at IS NOT NULL`, q.ID) == 1
	})
	w.text(phone, "b) aisle please")
	w.sentTo(phone, "Noted!")
	if n := w.Count(t, `SELECT count(*) FROM question_asks WHERE question_id = $1 AND state = 'answered' AND choice = 'Aisle' AND value = 2
		AND origin = 'api'`, q.QuestionID); n != 1 {
		t.Fatal("the answer was not read as Aisle")
	}
	// A happy answer needs nobody: the conversation is closed again.
	if n := w.Count(t, `SELECT count(*) FROM conversations WHERE status = 'closed' AND priority = 'normal'`); n != 1 {
		t.Fatal("the conversation was left waiting for a person after a plain answer")
	}
}
