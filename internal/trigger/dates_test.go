package trigger_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/store/storetest"
	"github.com/parleyhq/parley/internal/trigger"
)

// A birthday rule at 09:00 local: each person's run comes due as their own
// day reaches 09:00, a pass repeated (or after downtime, still within the
// expiry) schedules nothing twice, and an occurrence past its expiry is
// not caught up.
func TestDateRulesAcrossZonesAndCatchUp(t *testing.T) {
	t.Parallel()
	st, _ := storetest.New(t)
	ctx := context.Background()
	b, err := app.BrandAdd(ctx, st, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air", Numbers: []string{"+15005550006"}, MPS: 10})
	if err != nil {
		t.Fatal(err)
	}
	person := func(name, tz, phone, birthday string) int64 {
		var id int64
		if err := st.Pool.QueryRow(ctx, `INSERT INTO contacts (name, timezone, attributes) VALUES ($1, $2, jsonb_build_object('birthday', $3::text))
			RETURNING id`, name, tz, birthday).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool.Exec(ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2)`, phone, id); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool.Exec(ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source) VALUES ($1, $2, 'marketing', 'opted_in', 'import')`,
			b.ID, phone); err != nil {
			t.Fatal(err)
		}
		return id
	}
	tokyo := person("Aki", "Asia/Tokyo", "+81312345678", "1990-12-24")
	ny := person("Bea", "America/New_York", "+12125550401", "1985-12-24")
	person("Cal", "America/New_York", "+12125550402", "1985-06-01") // not today
	person("Dot", "America/New_York", "+12125550403", "nonsense")   // not a date
	svc := trigger.NewService(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var s trigger.Spec
	s.Date = &trigger.DateRule{Attribute: "birthday", AtLocal: "09:00"}
	s.Template, s.Purpose, s.Expire = "Happy birthday {{.FirstName}}!", "marketing", "12h"
	rule, err := svc.Save(ctx, b, 0, s)
	if err != nil {
		t.Fatal(err)
	}
	dates := trigger.NewDates(svc)
	pass := func(at time.Time) int64 {
		t.Helper()
		svc.Now = func() time.Time { return at }
		n, err := dates.Pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	runs := func(contact int64) int {
		return count(t, st.Pool, `SELECT count(*) FROM trigger_runs WHERE trigger_id = $1 AND contact_id = $2`, rule.ID, contact)
	}
	// 09:30 on the 24th in Tokyo is 19:30 on the 23rd in New York.
	if n := pass(time.Date(2026, 12, 24, 0, 30, 0, 0, time.UTC)); n != 1 || runs(tokyo) != 1 || runs(ny) != 0 {
		t.Fatalf("Tokyo's morning: %d runs (Tokyo %d, New York %d)", n, runs(tokyo), runs(ny))
	}
	// Later passes (and a second instance's) add nothing for Tokyo; New York's comes due at its 09:00.
	if n := pass(time.Date(2026, 12, 24, 13, 0, 0, 0, time.UTC)); n != 0 {
		t.Fatalf("08:00 in New York: %d new runs", n)
	}
	// Downtime from 08:00 to 16:00 New York time: the pass at 16:00 catches Bea up (12 h expiry), once.
	if n := pass(time.Date(2026, 12, 24, 21, 0, 0, 0, time.UTC)); n != 1 || runs(ny) != 1 {
		t.Fatalf("catch-up: %d new runs, New York %d", n, runs(ny))
	}
	if n := pass(time.Date(2026, 12, 24, 22, 0, 0, 0, time.UTC)); n != 0 || runs(ny) != 1 || runs(tokyo) != 1 {
		t.Fatal("a later pass doubled a run")
	}
	var due time.Time
	if err := st.Pool.QueryRow(ctx, `SELECT due_at FROM trigger_runs WHERE contact_id = $1`, ny).Scan(&due); err != nil {
		t.Fatal(err)
	}
	nyc, _ := time.LoadLocation("America/New_York")
	if l := due.In(nyc); l.Hour() != 9 || l.Day() != 24 {
		t.Fatalf("New York's run due %v, want 09:00 on the 24th local", l)
	}
	// Down for the whole day: the next day's pass does not send a stale greeting.
	st2 := person("Eve", "America/New_York", "+12125550404", "1970-12-24")
	if pass(time.Date(2026, 12, 25, 15, 0, 0, 0, time.UTC)); runs(st2) != 0 {
		t.Fatal("an expired occurrence was caught up")
	}
	// Next year is a new occurrence.
	if n := pass(time.Date(2027, 12, 24, 0, 30, 0, 0, time.UTC)); n != 1 || runs(tokyo) != 2 {
		t.Fatalf("next year: %d new runs, Tokyo %d", n, runs(tokyo))
	}
}

func count(t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
