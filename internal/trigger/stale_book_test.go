package trigger_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
)

// A rule saved through one process and an event for it a moment later:
// the run is fired by a worker process whose rule book was loaded before
// the rule existed and is not due to check again (found by the soak, where
// every event posted right after the rule was skipped as
// "rule_disabled"). The run must send, not be skipped for good.
func TestRunFiredByAProcessWithAStaleRuleBook(t *testing.T) {
	t.Parallel()
	web := apptest.New(t, apptest.Options{})
	if _, err := web.Store.CreateAPIKey(context.Background(), "trigger test", apiKey); err != nil {
		t.Fatal(err)
	}
	worker := apptest.New(t, apptest.Options{Share: web, App: func(o *app.Options) { o.TriggerEvery = 50 * time.Millisecond }})
	book := worker.App.Triggers.Book
	book.CheckEvery = time.Hour // stale from here on, unless something asks the database again
	if r, err := book.Rule(context.Background(), 1); err != nil || r != nil {
		t.Fatalf("the worker's book before any rule: %v, %v", r, err)
	}
	worker.StartWorker(t)

	w := &world{Env: web, t: t}
	const phone = "+12125550177"
	w.person("Rui Costa", "DA-7", phone, nil)
	var tr triggerOut
	w.api(http.StatusCreated, "POST", "/api/v1/triggers", map[string]any{"brand": "demo-air", "event_type": "bag_found",
		"delay": "0s", "template": "Good news {{.FirstName}}: your bag is found.", "purpose": "conversational"}, &tr)
	var ev eventOut
	w.api(http.StatusAccepted, "POST", "/api/v1/events", map[string]any{"type": "bag_found", "loyalty_id": "DA-7",
		"idempotency_key": "bag-DA-7"}, &ev)
	if ev.Matched != 1 {
		t.Fatalf("event %+v: want it to match the rule", ev)
	}
	apptest.WaitFor(t, 10*time.Second, "the run handled", func() bool {
		return web.Count(t, `SELECT count(*) FROM trigger_runs WHERE state <> 'scheduled'`) == 1
	})
	var state, reason string
	if err := web.Store.Pool.QueryRow(context.Background(), `SELECT state, reason FROM trigger_runs`).Scan(&state, &reason); err != nil {
		t.Fatal(err)
	}
	if state != "sent" {
		t.Fatalf("run %s (%s), want sent: a stale rule book skipped it", state, reason)
	}
	w.sentTo(phone, "Good news Rui: your bag is found.")
}
