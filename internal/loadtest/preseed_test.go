package loadtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// preseed stores n customers who texted once before, long ago: n contacts
// with one phone each, n conversations of the brand (half closed) and n
// inbound messages, so the inbound path is measured against a database
// that has grown. Set-based SQL on one connection with triggers and
// foreign-key checks off (the rows are consistent by construction), then
// VACUUM (ANALYZE), as a database that has grown has been vacuumed and has
// statistics. Phones are +1347…, SIDs SMseed…: neither is one the load
// sends or counts.
func preseed(tb testing.TB, pool *pgxpool.Pool, n int) time.Duration {
	tb.Helper()
	ctx := context.Background()
	t0 := time.Now()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Release()
	for _, q := range []string{
		`SET session_replication_role = replica`,
		`SET work_mem = '256MB'`,
		`SET maintenance_work_mem = '512MB'`,
		`CREATE TEMP TABLE seed_base AS SELECT (SELECT coalesce(max(id), 0) FROM contacts) AS contact0,
			(SELECT coalesce(max(id), 0) FROM conversations) AS conversation0, (SELECT id FROM brands WHERE slug = 'demo-air') AS brand`,
		`INSERT INTO contacts (id, name, attributes, created_at, updated_at)
			SELECT contact0 + g, 'Seeded ' || g, '{"tier":"bronze"}', now() - interval '400 days', now() - interval '300 days'
			  FROM seed_base, generate_series(1, $1::int) g`,
		`INSERT INTO contact_phones (phone, contact_id, created_at)
			SELECT '+1347' || lpad(g::text, 7, '0'), contact0 + g, now() - interval '400 days'
			  FROM seed_base, generate_series(1, $1::int) g`,
		`INSERT INTO conversations (id, brand_id, contact_id, status, last_phone, last_message_at, last_inbound_at, answered_at,
				created_at, updated_at)
			SELECT conversation0 + g, brand, contact0 + g, CASE WHEN g % 2 = 0 THEN 'closed' ELSE 'open' END,
			       '+1347' || lpad(g::text, 7, '0'), now() - interval '300 days' + g * interval '1 second',
			       now() - interval '300 days' + g * interval '1 second', now() - interval '300 days' + g * interval '1 second',
			       now() - interval '300 days', now() - interval '300 days'
			  FROM seed_base, generate_series(1, $1::int) g`,
		`INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, twilio_sid, received_at,
				extra, created_at, updated_at)
			SELECT conversation0 + g, brand, 'inbound', 'Hello, an old question about my booking ' || g,
			       '+1347' || lpad(g::text, 7, '0'), (SELECT number FROM brand_numbers WHERE brand_id = brand LIMIT 1), 'received',
			       'SMseed' || lpad(g::text, 28, '0'), now() - interval '300 days' + g * interval '1 second',
			       '{"NumSegments":"1"}', now() - interval '300 days' + g * interval '1 second', now() - interval '300 days' + g * interval '1 second'
			  FROM seed_base, generate_series(1, $1::int) g`,
		`SELECT setval('contacts_id_seq', (SELECT max(id) FROM contacts)), setval('conversations_id_seq', (SELECT max(id) FROM conversations))`,
		`RESET session_replication_role`,
		`DROP TABLE seed_base`,
		`VACUUM (ANALYZE) contacts`, `VACUUM (ANALYZE) contact_phones`, `VACUUM (ANALYZE) conversations`, `VACUUM (ANALYZE) messages`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{n}
		}
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			tb.Fatalf("preseed: %v\n%s", err, q)
		}
	}
	var rows int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM messages WHERE twilio_sid LIKE 'SMseed%'`).Scan(&rows); err != nil || rows != n {
		tb.Fatalf("preseed: %d messages stored, want %d (%v)", rows, n, err)
	}
	return time.Since(t0)
}

// checkGrown is checkStored for the preseeded side: every distinct
// MessageSid stored once, one contact per new phone, every answer a 200.
func checkGrown(tb testing.TB, pool *pgxpool.Pool, t *target, i int) {
	tb.Helper()
	ctx := context.Background()
	var rows, fresh int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM messages WHERE direction = 'inbound' AND twilio_sid LIKE $1),
		(SELECT count(*) FROM contact_phones WHERE phone LIKE '+1646%')`, fmt.Sprintf("SMg%d%%", i)).Scan(&rows, &fresh); err != nil {
		tb.Fatal(err)
	}
	if rows != len(t.sids) || (i == 0 && fresh != len(t.newPhones)) || t.total.ok != t.total.sent {
		tb.Fatalf("preseeded side: %d rows for %d distinct SIDs, %d contacts for %d new phones, %d/%d answered 200",
			rows, len(t.sids), fresh, len(t.newPhones), t.total.ok, t.total.sent)
	}
	tb.Logf("stored: preseeded parley %d rows = %d distinct SIDs (%d new contacts)", rows, len(t.sids), fresh)
}
