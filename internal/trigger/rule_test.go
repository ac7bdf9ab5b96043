package trigger

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

func compile(t testing.TB, doc string) Rule {
	t.Helper()
	var s Spec
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatalf("spec %s: %v", doc, err)
	}
	r, err := Compile(s)
	if err != nil {
		t.Fatalf("compile %s: %v", doc, err)
	}
	return r
}

func TestCompileNamesTheBadField(t *testing.T) {
	t.Parallel()
	cases := []struct{ doc, field string }{
		{`{"template": "hi", "purpose": "conversational"}`, "event_type"},
		{`{"event_type": "bad type!", "template": "hi", "purpose": "conversational"}`, "event_type"},
		{`{"event_type": "x", "conditions": "data.cabin ==", "template": "hi", "purpose": "conversational"}`, "conditions"},
		{`{"event_type": "x", "conditions": "dat.cabin == \"business\"", "template": "hi", "purpose": "conversational"}`, "conditions"},
		{`{"event_type": "x", "conditions": "1 + 2", "template": "hi", "purpose": "conversational"}`, "conditions"},
		{`{"event_type": "x", "template": "", "purpose": "conversational"}`, "template"},
		{`{"event_type": "x", "template": "{{.Name", "purpose": "conversational"}`, "template"},
		{`{"event_type": "x", "template": "{{printf \"%d\" 1}}", "purpose": "conversational"}`, "template"},
		{`{"event_type": "x", "template": "hi", "purpose": "spam"}`, "purpose"},
		{`{"event_type": "x", "template": "hi", "purpose": "marketing", "cooldown": "a while"}`, "cooldown"},
		{`{"event_type": "x", "template": "hi", "purpose": "marketing", "expire_after": "0s"}`, "expire_after"},
		{`{"event_type": "x", "template": "hi", "purpose": "marketing", "delay": {"days": 1, "at_local": "25:00"}}`, "delay.at_local"},
		{`{"event_type": "x", "template": "hi", "purpose": "marketing", "question": {"kind": "stars"}}`, "question.kind"},
		{`{"event_type": "x", "template": "hi", "purpose": "marketing", "question": {"kind": "rating", "window": "soon"}}`, "question.window"},
		{`{"event_type": "x", "date": {"attribute": "birthday", "at_local": "09:00"}, "template": "hi", "purpose": "marketing"}`, "date"},
		{`{"date": {"attribute": "", "at_local": "09:00"}, "template": "hi", "purpose": "marketing"}`, "date.attribute"},
	}
	for _, c := range cases {
		var s Spec
		if err := json.Unmarshal([]byte(c.doc), &s); err != nil {
			t.Fatalf("%s: %v", c.doc, err)
		}
		_, err := Compile(s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: error %v, want one naming %q", c.doc, err, c.field)
		}
	}
	var s Spec
	if err := json.Unmarshal([]byte(`{"delay": "soon"}`), &s); err == nil || !strings.Contains(err.Error(), "duration") {
		t.Errorf("a delay of \"soon\" decoded (%v), want an error about durations", err)
	}
}

func TestConditionsOnDataAndAttributes(t *testing.T) {
	t.Parallel()
	r := compile(t, `{"event_type": "flight_completed", "template": "hi", "purpose": "conversational",
		"conditions": "data.cabin == \"business\" && attributes.tier in [\"gold\", \"platinum\"] && data.delay_minutes > 30"}`)
	cases := []struct {
		data, attrs map[string]any
		want        bool
	}{
		{map[string]any{"cabin": "business", "delay_minutes": 45.0}, map[string]any{"tier": "gold"}, true},
		{map[string]any{"cabin": "business", "delay_minutes": 45.0}, map[string]any{"tier": "silver"}, false},
		{map[string]any{"cabin": "economy", "delay_minutes": 45.0}, map[string]any{"tier": "gold"}, false},
		{map[string]any{"cabin": "business", "delay_minutes": 10.0}, map[string]any{"tier": "platinum"}, false},
		{map[string]any{"cabin": "business"}, map[string]any{"tier": "gold"}, false}, // a missing number does not hold
		{nil, nil, false},
	}
	for _, c := range cases {
		got, _ := r.Matches(conditionEnv(c.data, c.attrs, "", "", "", "", "flight_completed"))
		if got != c.want {
			t.Errorf("data %v attributes %v: %v, want %v", c.data, c.attrs, got, c.want)
		}
	}
	// A value that looks like SQL or code is only a value.
	inj := compile(t, `{"event_type": "x", "template": "hi", "purpose": "conversational", "conditions": "data.note == \"'; DROP TABLE contacts; --\""}`)
	if ok, _ := inj.Matches(conditionEnv(map[string]any{"note": "'; DROP TABLE contacts; --"}, nil, "", "", "", "", "x")); !ok {
		t.Error("a string condition did not match its own value")
	}
}

func TestDueTimes(t *testing.T) {
	t.Parallel()
	ny, _ := time.LoadLocation("America/New_York")
	occurred := time.Date(2026, 3, 7, 22, 30, 0, 0, ny) // the evening before clocks go forward
	r := compile(t, `{"event_type": "x", "template": "hi", "purpose": "conversational", "delay": "2h"}`)
	if got := r.DueAt(occurred, ny); !got.Equal(occurred.Add(2 * time.Hour)) {
		t.Errorf("2h after: %v", got)
	}
	r = compile(t, `{"event_type": "x", "template": "hi", "purpose": "conversational", "delay": {"days": 1, "at_local": "10:00"}}`)
	got := r.DueAt(occurred, ny)
	if want := time.Date(2026, 3, 8, 10, 0, 0, 0, ny); !got.Equal(want) || got.In(ny).Hour() != 10 {
		t.Errorf("a day later at 10:00 across the DST change: %v, want %v", got, want)
	}
	r = compile(t, `{"event_type": "x", "template": "hi", "purpose": "conversational", "delay": {"days": 0, "at_local": "10:00"}}`)
	if got, want := r.DueAt(occurred, ny), time.Date(2026, 3, 8, 10, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("0 days at 10:00, already past: %v, want the next day's %v", got, want)
	}
	morning := time.Date(2026, 3, 7, 8, 0, 0, 0, ny)
	if got, want := r.DueAt(morning, ny), time.Date(2026, 3, 7, 10, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("0 days at 10:00 from 08:00: %v, want %v", got, want)
	}
	// An event arriving three days late is dropped, saying so.
	r = compile(t, `{"event_type": "x", "template": "hi", "purpose": "conversational", "delay": "0s", "expire_after": "24h"}`)
	p := r.PlanRun(occurred, occurred.Add(72*time.Hour), ny)
	if !p.Dropped || !strings.Contains(p.Detail, "arrived 3 days late") {
		t.Errorf("late event planned %+v, want dropped as arrived 3 days late", p)
	}
	if p := r.PlanRun(occurred, occurred.Add(time.Hour), ny); p.Dropped {
		t.Errorf("an event an hour late was dropped: %+v", p)
	}
}

func due(now time.Time) store.DueRun {
	return store.DueRun{RunID: 1, TriggerID: 1, Phone: "+15005550111", From: "+15005550006", Marketing: "opted_in", Conversational: "",
		DueAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour), Name: "Ana Lima", EventData: map[string]any{"flight": "DA101"},
		Attributes: map[string]any{}, QuietStart: 8 * 60, QuietEnd: 21 * 60}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	ny, _ := time.LoadLocation("America/New_York")
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, ny)
	conv := compile(t, `{"event_type": "x", "template": "Hi {{.FirstName}}, how was {{.Event.flight}}?", "purpose": "conversational", "cooldown": "720h",
		"question": {"kind": "rating"}}`)
	mkt := compile(t, `{"event_type": "x", "template": "Your dish is back", "purpose": "marketing"}`)
	miss := compile(t, `{"event_type": "x", "template": "Seat {{.Event.seat}}", "purpose": "conversational"}`)
	lastWeek := noon.Add(-7 * 24 * time.Hour)
	cases := []struct {
		name   string
		rule   *Rule
		edit   func(*store.DueRun)
		now    time.Time
		state  string
		reason string
	}{
		{"sends", &conv, nil, noon, "sent", ""},
		{"rule gone", nil, nil, noon, "skipped", ReasonRuleOff},
		{"expired", &conv, func(d *store.DueRun) { d.ExpiresAt = noon.Add(-time.Minute) }, noon, "dropped", ReasonExpired},
		{"opted out", &conv, func(d *store.DueRun) { d.Conversational = "opted_out" }, noon, "skipped", "opted_out"},
		{"marketing without consent", &mkt, func(d *store.DueRun) { d.Marketing = "" }, noon, "skipped", "no_marketing_consent"},
		{"cooldown", &conv, func(d *store.DueRun) { d.LastSent = &lastWeek }, noon, "skipped", ReasonCooldown},
		{"open question", &conv, func(d *store.DueRun) { d.OpenQuestion = true }, noon, "skipped", ReasonOpenQuestion},
		{"open question, no question asked", &mkt, func(d *store.DueRun) { d.OpenQuestion = true }, noon, "sent", ""},
		{"no phone", &conv, func(d *store.DueRun) { d.Phone = "" }, noon, "skipped", ReasonNoPhone},
		{"undeliverable", &conv, func(d *store.DueRun) { d.Undeliverable = true }, noon, "skipped", ReasonUndeliver},
		{"missing field", &miss, nil, noon, "skipped", ReasonRender},
		{"quiet hours past expiry", &conv, nil, time.Date(2026, 12, 1, 23, 0, 0, 0, ny), "dropped", ReasonQuietHours},
	}
	for _, c := range cases {
		d := due(c.now)
		if c.name == "quiet hours past expiry" {
			d.ExpiresAt = c.now.Add(2 * time.Hour) // quiet until 08:00, nine hours away
		}
		if c.edit != nil {
			c.edit(&d)
		}
		o := Decide(c.rule, d, c.now, ny)
		if o.State != c.state || o.Reason != c.reason {
			t.Errorf("%s: %s/%s (%s), want %s/%s", c.name, o.State, o.Reason, o.Detail, c.state, c.reason)
		}
		if o.State != "sent" && o.Detail == "" {
			t.Errorf("%s: no reason in words", c.name)
		}
	}
	o := Decide(&conv, due(noon), noon, ny)
	if o.Body != "Hi Ana, how was DA101?" || o.Queue != "proactive" || o.Purpose != "conversational" || o.QuestionWindow != DefaultWindow {
		t.Errorf("text %+v", o)
	}
	// Held overnight but still within its expiry: it goes (the delivery
	// engine holds it until morning).
	d := due(time.Date(2026, 12, 1, 23, 0, 0, 0, ny))
	d.ExpiresAt = d.DueAt.Add(24 * time.Hour)
	if o := Decide(&conv, d, time.Date(2026, 12, 1, 23, 0, 0, 0, ny), ny); o.State != "sent" {
		t.Errorf("a text due at night with a day to go: %s %s", o.State, o.Detail)
	}
}

func TestDateOccurrences(t *testing.T) {
	t.Parallel()
	ny, _ := time.LoadLocation("America/New_York")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	r := compile(t, `{"date": {"attribute": "birthday", "offset_days": 0, "at_local": "09:00"}, "template": "Happy birthday!", "purpose": "marketing"}`)
	// 09:00 on the birthday in each person's own zone.
	at := time.Date(2026, 12, 24, 9, 30, 0, 0, tokyo)
	occ, due, ok := r.Occurrence("1990-12-24", at, tokyo)
	if !ok || occ != "2026-12-24" || !due.Equal(time.Date(2026, 12, 24, 9, 0, 0, 0, tokyo)) {
		t.Errorf("Tokyo: %v %v %v", occ, due, ok)
	}
	if _, _, ok := r.Occurrence("1990-12-24", at, ny); ok {
		t.Error("New York at 19:30 on the 23rd: not yet due")
	}
	if _, _, ok := r.Occurrence("1990-12-24", time.Date(2026, 12, 24, 8, 59, 0, 0, ny), ny); ok {
		t.Error("a minute before 09:00: not due")
	}
	if _, _, ok := r.Occurrence("1990-12-24", time.Date(2026, 12, 25, 9, 1, 0, 0, ny), ny); ok {
		t.Error("a day later: expired")
	}
	// Catch-up after downtime within the expiry still finds the same occurrence.
	occ2, _, ok := r.Occurrence("1990-12-24", time.Date(2026, 12, 24, 22, 0, 0, 0, ny), ny)
	if !ok || occ2 != "2026-12-24" {
		t.Errorf("catch-up: %v %v", occ2, ok)
	}
	// 29 February on 28 February of a common year.
	if occ, _, ok := r.Occurrence("2000-02-29", time.Date(2027, 2, 28, 10, 0, 0, 0, ny), ny); !ok || occ != "2027-02-28" {
		t.Errorf("leap birthday: %v %v", occ, ok)
	}
	// A week before, across the day clocks change.
	wk := compile(t, `{"date": {"attribute": "points_expire", "offset_days": -7, "at_local": "10:00", "once": true}, "template": "Points expire soon", "purpose": "marketing"}`)
	if occ, due, ok := wk.Occurrence("2026-03-15", time.Date(2026, 3, 8, 10, 5, 0, 0, ny), ny); !ok || occ != "2026-03-08" || due.In(ny).Hour() != 10 {
		t.Errorf("a week before across DST: %v %v %v", occ, due, ok)
	}
	if _, _, ok := wk.Occurrence("2025-03-15", time.Date(2026, 3, 8, 10, 5, 0, 0, ny), ny); ok {
		t.Error("a once rule matched the next year")
	}
	if _, _, ok := r.Occurrence("not a date", at, ny); ok {
		t.Error("a bad date matched")
	}
	md, _ := dateKeys(&r, time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC))
	found := false
	for _, k := range md {
		found = found || k == "02-29"
	}
	if !found {
		t.Errorf("keys around 28 February %v lack 02-29", md)
	}
}
