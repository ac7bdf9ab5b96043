package store_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/parleyhq/parley/internal/store"
)

// An export walks the ids range by range (ids far apart included), lists
// the brand's live contacts only, reads attribute keys of those alone, gives
// each row the values of the keys header chose, covers what existed when it
// started, and stops at the first error of a callback, returning it.
func TestExportContactsAndConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := b.st.Pool.Exec(b.ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	contact := func(attrs string, phone string, mergedInto any) int64 {
		t.Helper()
		var id int64
		if err := b.st.Pool.QueryRow(b.ctx, `INSERT INTO contacts (attributes, merged_into) VALUES ($1, $2) RETURNING id`, attrs, mergedInto).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if phone != "" {
			exec(`INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2)`, phone, id)
		}
		return id
	}
	consent := func(brandID int64, phone string) {
		t.Helper()
		exec(`INSERT INTO consent_events (brand_id, phone, purpose, status, source) VALUES ($1, $2, 'marketing', 'opted_in', 'import')`, brandID, phone)
	}
	first := contact(`{"a": 1}`, "+12125550501", nil)
	consent(b.air.ID, "+12125550501")
	merged := contact(`{"merged_key": true}`, "+12125550502", first)
	consent(b.air.ID, "+12125550502")
	hotel := contact(`{"hotel_key": 1}`, "+12125550503", nil)
	consent(b.hotel.ID, "+12125550503")
	exec(`SELECT setval('contacts_id_seq', 123456)`)
	exec(`SELECT setval('consent_events_id_seq', 7000)`)
	far := contact(`{"b": "x", "a": 2.50}`, "+12125550504", nil)
	consent(b.air.ID, "+12125550504")
	consent(b.hotel.ID, "+12125550504")
	texter := b.text(t, b.air, "+12125550505", "hello", t0).ContactID

	var keys []string
	var got []store.ContactExport
	err := b.st.ExportContacts(b.ctx, b.air.ID, func(k []string) ([]string, error) {
		keys = k
		return []string{"a", "missing"}, nil
	}, func(r store.ContactExport) error {
		if len(got) == 0 {
			contact(`{"late": 1}`, "+12125550506", nil) // after the start: not in this export
			consent(b.air.ID, "+12125550506")
		}
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"a", "b"}) {
		t.Errorf("keys %v, want a and b: never a merged contact's or another brand's", keys)
	}
	var ids []int64
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []int64{first, far, texter}) {
		t.Fatalf("exported %v, want %v (not %d merged, not %d of the hotel)", ids, []int64{first, far, texter}, merged, hotel)
	}
	text := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	if r := got[1]; len(r.Attributes) != 2 || text(r.Attributes[0]) != "2.50" || r.Attributes[1] != nil ||
		!slices.Equal(r.Phones, []string{"+12125550504"}) || r.Marketing != "opted_in" || r.Conversational != "" {
		t.Errorf("far row %+v (a=%s)", r, text(r.Attributes[0]))
	}
	if r := got[2]; r.Attributes[0] != nil || r.Marketing != "" {
		t.Errorf("texter row %+v", r)
	}

	stop := errors.New("client gone")
	calls := 0
	err = b.st.ExportContacts(b.ctx, b.air.ID, func(k []string) ([]string, error) { return k, nil }, func(store.ContactExport) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("a failing callback: %v after %d calls, want it back after 1", err, calls)
	}
	err = b.st.ExportContacts(b.ctx, b.air.ID, func([]string) ([]string, error) { return nil, stop }, func(store.ContactExport) error {
		t.Error("a row after a failed header")
		return nil
	})
	if err != stop {
		t.Errorf("a failing header: %v", err)
	}

	var phones []string
	var last int64
	err = b.st.ExportConsent(b.ctx, b.air.ID, func(e store.ConsentEvent) error {
		if e.BrandID != b.air.ID || e.ID <= last {
			t.Errorf("entry %+v after %d", e, last)
		}
		if last == 0 {
			consent(b.air.ID, "+12125550507") // after the start: not in this export
		}
		last = e.ID
		phones = append(phones, e.Phone)
		return nil
	})
	// The late contact's entry was written before this export began.
	if want := []string{"+12125550501", "+12125550502", "+12125550504", "+12125550506"}; err != nil || !slices.Equal(phones, want) {
		t.Errorf("ledger %v %v, want %v", phones, err, want)
	}
}
