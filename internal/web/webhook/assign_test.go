package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/automation"
)

// dispatchEnv is an environment with the worker running, its clock at at
// (settable through r.clock), and a dispatcher pass every 50 ms.
func dispatchEnv(t *testing.T, at time.Time) *routed {
	t.Helper()
	r := &routed{clock: newClock(at)}
	now := func() time.Time { return time.Unix(0, r.clock.Load()) }
	r.Env = apptest.New(t, apptest.Options{Worker: true, App: func(o *app.Options) { o.Now = now; o.DispatchEvery = 50 * time.Millisecond }})
	r.auto = automation.NewService(r.Store, r.App.Routing)
	return r
}

// assignee is who holds the conversation of phone now (0: nobody).
func (r *routed) assignee(t *testing.T, phone string) int64 {
	t.Helper()
	var id int64
	if err := r.Store.Pool.QueryRow(context.Background(), `SELECT coalesce(c.assignee_id, 0) FROM conversations c
		JOIN contact_phones p ON p.contact_id = c.contact_id WHERE p.phone = $1 AND c.merged_into IS NULL`, phone).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// Sticky round robin with capacity: new customers go to the online agents
// in turn; when everyone is full the next one waits and is assigned the
// moment capacity frees; an agent who goes away gives their waiting
// customers to others; one who does not answer in time loses the customer
// to someone else. Every change is in the conversation's history.
func TestAutomaticAssignment(t *testing.T) {
	t.Parallel()
	r := dispatchEnv(t, newYork(t, "2026-03-04 11:00"))
	ctx := context.Background()
	r.settings(t, `{"assignment": "sticky_round_robin", "reassign_after_seconds": 300}`)
	for _, email := range []string{"ana@example.com", "ben@example.com"} {
		u, err := r.Store.UpsertUser(ctx, email, "x", "agent")
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Store.SetPresence(ctx, u.ID, "online"); err != nil {
			t.Fatal(err)
		}
		if err := r.Store.SetUserCapacity(ctx, u.ID, 1); err != nil {
			t.Fatal(err)
		}
	}
	const c1, c2, c3 = "+12125550301", "+12125550302", "+12125550303"
	r.text(t, c1, "Hello")
	apptest.WaitFor(t, 5*time.Second, "the first customer assigned", func() bool { return r.assignee(t, c1) != 0 })
	r.text(t, c2, "Hi there")
	apptest.WaitFor(t, 5*time.Second, "the second customer assigned", func() bool { return r.assignee(t, c2) != 0 })
	if a, b := r.assignee(t, c1), r.assignee(t, c2); a == b {
		t.Fatalf("both customers went to agent %d; round robin takes turns", a)
	}
	r.text(t, c3, "Anyone?")
	time.Sleep(300 * time.Millisecond) // several passes
	if r.assignee(t, c3) != 0 {
		t.Fatal("a customer was assigned over every agent's capacity")
	}
	// The agent of c1 closes it: capacity frees, c3 is assigned to them.
	first := r.assignee(t, c1)
	if _, err := r.Store.Pool.Exec(ctx, `UPDATE conversations SET status = 'closed', waiting_since = NULL
		WHERE assignee_id = $1`, first); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, 5*time.Second, "the waiting customer assigned once capacity freed", func() bool { return r.assignee(t, c3) == first })

	// The other agent goes away: c2 waits for someone else (nobody is free).
	second := r.assignee(t, c2)
	if err := r.Store.SetPresence(ctx, second, "away"); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, 5*time.Second, "the away agent's customer taken back", func() bool { return r.assignee(t, c2) == 0 })

	// The agent comes back and takes c2 again (sticky: they answered nobody
	// yet, so round robin). Then c3's agent leaves it unanswered for over 5
	// minutes: it is taken from them and, once someone is free, given to
	// someone else.
	if err := r.Store.SetPresence(ctx, second, "online"); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, 5*time.Second, "c2 back with an agent", func() bool { return r.assignee(t, c2) == second })
	r.clock.Add(int64(6 * time.Minute))
	apptest.WaitFor(t, 5*time.Second, "c3 taken from the agent who did not answer", func() bool { return r.assignee(t, c3) != first })
	if got := r.assignee(t, c3); got == first {
		t.Fatalf("c3 went back to the agent who did not answer")
	}
	if n := r.Count(t, `SELECT count(*) FROM conversation_activity WHERE kind = 'unassigned' AND detail LIKE '%not answered within 5m0s%'`); n < 1 {
		t.Error("the reassignment for not answering is not in the history")
	}
	if n := r.Count(t, `SELECT count(*) FROM conversation_activity WHERE kind = 'assigned' AND detail LIKE 'automatically to %: round robin'`); n < 2 {
		t.Errorf("%d automatic assignments recorded with their reason", n)
	}
}

// A missed response target is recorded once per wait, and the next wait
// of the same conversation has its own.
func TestResponseTargetBreachRecordedOnce(t *testing.T) {
	t.Parallel()
	r := dispatchEnv(t, newYork(t, "2026-03-04 11:00"))
	r.settings(t, `{"first_response_sla_seconds": 120}`)
	const phone = "+12125550401"
	breaches := func() int {
		return r.Count(t, `SELECT count(*) FROM conversation_activity WHERE kind = 'sla_breached'`)
	}
	r.text(t, phone, "Hello?")
	time.Sleep(200 * time.Millisecond)
	if n := breaches(); n != 0 {
		t.Fatalf("%d breaches before the target passed", n)
	}
	r.clock.Add(int64(3 * time.Minute))
	apptest.WaitFor(t, 5*time.Second, "the breach recorded", func() bool { return breaches() == 1 })
	time.Sleep(300 * time.Millisecond) // more passes
	if n := breaches(); n != 1 {
		t.Fatalf("the breach was recorded %d times", n)
	}
}

// A quiet conversation nobody waits on closes itself after the brand's
// period; a snoozed one is left alone; a new text reopens.
func TestAutoCloseQuietConversations(t *testing.T) {
	t.Parallel()
	r := dispatchEnv(t, newYork(t, "2026-03-04 11:00"))
	r.settings(t, `{"auto_close_after_seconds": 600}`)
	const answered, snoozed, waiting = "+12125550501", "+12125550502", "+12125550503"
	for _, p := range []string{answered, snoozed, waiting} {
		r.text(t, p, "Hello")
	}
	ctx := context.Background()
	if _, err := r.Store.Pool.Exec(ctx, `UPDATE conversations c SET waiting_since = NULL, answered_at = now(),
		status = CASE WHEN p.phone = $2 THEN 'snoozed' ELSE c.status END
		FROM contact_phones p WHERE p.contact_id = c.contact_id AND p.phone IN ($1, $2)`, answered, snoozed); err != nil {
		t.Fatal(err)
	}
	status := func(phone string) string {
		var s string
		if err := r.Store.Pool.QueryRow(ctx, `SELECT c.status FROM conversations c JOIN contact_phones p ON p.contact_id = c.contact_id
			WHERE p.phone = $1`, phone).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	time.Sleep(200 * time.Millisecond)
	if status(answered) != "open" {
		t.Fatal("closed before the quiet period")
	}
	r.clock.Add(int64(11 * time.Minute))
	apptest.WaitFor(t, 5*time.Second, "the quiet conversation closed", func() bool { return status(answered) == "closed" })
	if s := status(snoozed); s != "snoozed" {
		t.Errorf("a snoozed conversation became %s", s)
	}
	if s := status(waiting); s != "open" {
		t.Errorf("a conversation whose customer waits became %s", s)
	}
	r.text(t, answered, "One more thing")
	if s := status(answered); s != "open" {
		t.Errorf("a new text left it %s", s)
	}
}

// Power users first: with one place free, a gold-tier customer is assigned
// before an engaged one (texts on many days), who goes before a customer
// who waited longer but is neither.
func TestPowerUsersAssignedFirst(t *testing.T) {
	t.Parallel()
	r := dispatchEnv(t, newYork(t, "2026-03-04 11:00"))
	ctx := context.Background()
	r.settings(t, `{"assignment": "sticky_least_busy", "tier_priority": {"gold": 2}}`)
	u, err := r.Store.UpsertUser(ctx, "ana@example.com", "x", "agent")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Store.SetUserCapacity(ctx, u.ID, 1); err != nil {
		t.Fatal(err)
	}
	const plain, gold, engaged = "+12125550601", "+12125550602", "+12125550603"
	// The engaged customer texted on five earlier days (their history is
	// there before their text: a pass reads a waiting customer's engagement
	// once, when it first sees them waiting).
	if _, err := r.Store.Pool.Exec(ctx, `
		WITH c AS (INSERT INTO contacts (name) VALUES ('Engaged') RETURNING id),
		p AS (INSERT INTO contact_phones (phone, contact_id) SELECT $1, id FROM c),
		cv AS (INSERT INTO conversations (brand_id, contact_id, last_phone, status) SELECT $2, id, $1, 'closed' FROM c RETURNING id)
		INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, created_at)
		SELECT cv.id, $2, 'inbound', 'earlier', $1, $3, 'received', now() - d * interval '1 day' FROM cv, generate_series(1, 5) d`,
		engaged, r.Brand.ID, apptest.BrandNumber); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{plain, gold, engaged} {
		r.text(t, p, "Hello, a question about my booking")
		apptest.WaitFor(t, 5*time.Second, "the text stored", func() bool {
			return r.Count(t, `SELECT count(*) FROM messages WHERE from_number = '`+p+`' AND body <> 'earlier'`) == 1
		})
	}
	if _, err := r.Store.Pool.Exec(ctx, `UPDATE contacts SET attributes = '{"tier": "gold"}'
		WHERE id = (SELECT contact_id FROM contact_phones WHERE phone = $1)`, gold); err != nil {
		t.Fatal(err)
	}
	if err := r.Store.SetPresence(ctx, u.ID, "online"); err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	closeAndWait := func(want string) {
		t.Helper()
		apptest.WaitFor(t, 5*time.Second, want+" assigned", func() bool { return r.assignee(t, want) == u.ID })
		done[want] = true
		for _, p := range []string{plain, gold, engaged} {
			if !done[p] && r.assignee(t, p) != 0 {
				t.Fatalf("%s was assigned while %s held the agent's only place", p, want)
			}
		}
		if _, err := r.Store.Pool.Exec(ctx, `UPDATE conversations SET status = 'closed', waiting_since = NULL WHERE assignee_id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	closeAndWait(gold)
	closeAndWait(engaged)
	closeAndWait(plain)
}
