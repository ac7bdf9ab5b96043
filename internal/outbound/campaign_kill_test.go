package outbound_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio"
	"github.com/parleyhq/parley/internal/logging"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
)

// A campaign to 300 people survives `kill -9` of its worker at 30% and a
// Redis flush at 60%: the second worker fans out what is left, the relay
// gives every waiting text a task again, the reconciler settles the dead
// worker's claims, and every recipient reaches the carrier exactly once.
//
// Not parallel, like TestWorkerKilledMidBurst.
func TestCampaignSurvivesWorkerKillAndRedisFlush(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs parley processes")
	}
	ctx := context.Background()
	w := newProcWorld(t, 30*time.Millisecond)
	bin, st, b, rdb, fake, env := w.bin, w.st, w.brand, w.rdb, w.fake, w.env
	const people = 300
	if _, err := st.Pool.Exec(ctx, `
		WITH c AS (INSERT INTO contacts (name, timezone) SELECT 'P' || g, 'America/New_York' FROM generate_series(1, $1::int) g RETURNING id),
		p AS (INSERT INTO contact_phones (phone, contact_id) SELECT '+1404' || (5000000 + id)::text, id FROM c RETURNING phone)
		INSERT INTO consent_events (brand_id, phone, purpose, status, source) SELECT $2, phone, 'marketing', 'opted_in', 'import' FROM p`,
		people, b.ID); err != nil {
		t.Fatal(err)
	}
	cp, err := st.CreateCampaign(ctx, store.Campaign{BrandID: b.ID, Name: "Kill", Variants: []string{"Campaign text for {{.FirstName}}"}})
	if err != nil {
		t.Fatal(err)
	}
	// Quiet hours would hold the texts at night: the brand's window is the
	// whole day for this test.
	if _, err := st.Pool.Exec(ctx, `UPDATE brands SET quiet_start = 0, quiet_end = 1440`); err != nil {
		t.Fatal(err)
	}
	if err := st.ScheduleCampaign(ctx, cp.ID, time.Now(), ""); err != nil {
		t.Fatal(err)
	}

	first := startWorker(t, bin, env, "first")
	apptest.WaitFor(t, 60*time.Second, "30% of the campaign at the carrier", func() bool { return fake.Count() >= people*3/10 })
	first.kill(t)
	endSessions(t, st, "first")
	t.Logf("%d messages claimed when the first worker died", len(statusIDs(t, st, "sending")))
	expireLeases(t, rdb)
	second := startWorker(t, bin, env, "second")
	apptest.WaitFor(t, 60*time.Second, "60% of the campaign at the carrier", func() bool { return fake.Count() >= people*6/10 })
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, 90*time.Second, "every recipient's text stored and every queued one taken", func() bool {
		var pending int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1 AND state = 'pending'`, cp.ID).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		return pending == 0 && len(statusIDs(t, st, "queued", "held")) == 0
	})
	// What is left sending was claimed by the dead worker (its carrier call
	// may or may not have gone), or is in flight in the second one: the
	// reconciler looks the dead worker's up.
	stuck := statusIDs(t, st, "sending")
	tw, err := twilio.New(apptest.AccountSID, apptest.AuthToken, fake.URL(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rec := outbound.NewReconciler(st, tw, queue.NewClient(rdb, ""), logging.New(io.Discard, slog.LevelInfo))
	rec.After, rec.AmbiguousAfter = 0, 0
	apptest.WaitFor(t, 60*time.Second, "the campaign completed", func() bool {
		if _, err := rec.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := st.CampaignByID(ctx, cp.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.State == "completed"
	})
	second.stop(t)
	perPhone := map[string]int{}
	for _, m := range fake.Sent() {
		perPhone[m.To]++
	}
	if len(perPhone) != people {
		t.Errorf("%d of %d people reached", len(perPhone), people)
	}
	for p, n := range perPhone {
		if n != 1 {
			t.Errorf("%s got %d texts, want 1", p, n)
		}
	}
	t.Logf("%d messages sending when the queue was taken", len(stuck))
}
