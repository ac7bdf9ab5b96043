package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley/internal/store"
)

// isFKViolation reports whether err is Postgres's foreign_key_violation.
func isFKViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// The references migration 00032 checks once per statement keep what the
// foreign keys guaranteed: no phone names a missing contact, no consent
// entry a missing brand, and a referenced row cannot be deleted.
func TestReferencesCheckedPerStatement(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.text(t, b.air, "+12125550301", "hello", t0)
	pool := b.st.Pool

	var before int
	if err := pool.QueryRow(b.ctx, `SELECT count(*) FROM contact_phones`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	// One bad row among good ones refuses the whole statement.
	_, err := pool.Exec(b.ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ('+12125550302', $1), ('+12125550303', $1 + 1000000)`, in.ContactID)
	if !isFKViolation(err) {
		t.Fatalf("a phone of a missing contact: %v, want foreign_key_violation", err)
	}
	var after int
	if err := pool.QueryRow(b.ctx, `SELECT count(*) FROM contact_phones`).Scan(&after); err != nil || after != before {
		t.Fatalf("phones %d after the refused insert, want %d (%v)", after, before, err)
	}
	if _, err := pool.Exec(b.ctx, `UPDATE contact_phones SET contact_id = contact_id + 1000000 WHERE phone = '+12125550301'`); !isFKViolation(err) {
		t.Fatalf("moving a phone to a missing contact: %v, want foreign_key_violation", err)
	}
	if _, err := pool.Exec(b.ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ('+12125550302', $1)`, in.ContactID); err != nil {
		t.Fatalf("a phone of an existing contact: %v", err)
	}
	// A contact with a phone and nothing else naming it (no conversation,
	// whose real foreign key would refuse the delete by itself).
	lone := b.upsert(t, store.ContactUpsert{Phones: []string{"+12125550304"}}).Contact
	if _, err := pool.Exec(b.ctx, `DELETE FROM contacts WHERE id = $1`, lone.ID); !isFKViolation(err) || !strings.Contains(err.Error(), "still named by contact_phones") {
		t.Fatalf("deleting a contact with phones: %v, want foreign_key_violation", err)
	}
	if _, err := pool.Exec(b.ctx, `UPDATE contacts SET id = id WHERE id = $1`, lone.ID); err != nil {
		t.Fatalf("an update naming id without changing it: %v", err)
	}
	if _, err := pool.Exec(b.ctx, `UPDATE contacts SET id = id + 1000000 WHERE id = $1`, lone.ID); !isFKViolation(err) {
		t.Fatalf("renumbering a contact with phones: %v, want foreign_key_violation", err)
	}
	if _, err := pool.Exec(b.ctx, `TRUNCATE contacts CASCADE`); !isFKViolation(err) || !strings.Contains(err.Error(), "truncate it first") {
		t.Fatalf("truncating contacts with phones: %v, want foreign_key_violation", err)
	}
	// Under REPEATABLE READ a delete's snapshot could miss a phone written
	// since it began: refused.
	if err := pgx.BeginTxFunc(b.ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		_, err := tx.Exec(b.ctx, `DELETE FROM contacts WHERE id = $1`, lone.ID)
		return err
	}); err == nil || !strings.Contains(err.Error(), "only in READ COMMITTED") {
		t.Fatalf("a delete under REPEATABLE READ: %v", err)
	}

	err = b.st.AppendConsent(b.ctx, []store.ConsentEvent{{BrandID: b.air.ID + 1000, Phone: "+12125550301", Purpose: "marketing", Status: "opted_in", Source: "api"}})
	if !isFKViolation(err) {
		t.Fatalf("consent for a missing brand: %v, want foreign_key_violation", err)
	}
	if err := b.st.AppendConsent(b.ctx, []store.ConsentEvent{{BrandID: b.hotel.ID, Phone: "+12125550301", Purpose: "marketing", Status: "opted_in", Source: "api"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(b.ctx, `DELETE FROM brand_numbers WHERE brand_id = $1`, b.hotel.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(b.ctx, `DELETE FROM brands WHERE id = $1`, b.hotel.ID); !isFKViolation(err) || !strings.Contains(err.Error(), "still named by consent_events") {
		t.Fatalf("deleting a brand with consent entries: %v, want foreign_key_violation", err)
	}
	bare, err := b.st.CreateBrand(b.ctx, store.BrandInput{Slug: "bare", Name: "Bare"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(b.ctx, `DELETE FROM brands WHERE id = $1`, bare.ID); err != nil {
		t.Fatalf("deleting a brand nothing names: %v", err)
	}
}

// A delete racing an insert that names the row: whichever commits first,
// the other is refused. The foreign key did this with a row lock; here the
// delete's lock on the referencing table waits for the insert in flight.
func TestReferencedDeleteWaitsForInsertInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	brand, err := b.st.CreateBrand(b.ctx, store.BrandInput{Slug: "racing", Name: "Racing"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := b.st.Pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(b.ctx) }()
	if _, err := tx.Exec(b.ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source) VALUES ($1, '+12125550311', 'marketing', 'opted_in', 'api')`, brand.ID); err != nil {
		t.Fatal(err)
	}
	deleted := make(chan error, 1)
	go func() {
		_, err := b.st.Pool.Exec(b.ctx, `DELETE FROM brands WHERE id = $1`, brand.ID)
		deleted <- err
	}()
	// The delete must wait on the open insert, whatever the machine's speed:
	// it shows up as a backend waiting for a lock on consent_events.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting bool
		if err := b.st.Pool.QueryRow(b.ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'consent_events' AND l.mode = 'ShareLock' AND NOT l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case err := <-deleted:
			t.Fatalf("the delete finished while an insert naming the brand was open: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the delete never waited for the insert")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-deleted; !isFKViolation(err) || !strings.Contains(err.Error(), "still named by consent_events") {
		t.Fatalf("delete after the insert committed: %v, want foreign_key_violation", err)
	}
}
