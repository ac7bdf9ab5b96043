package contact_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

type imported struct {
	p       contact.ImportProgress
	skipped []store.ImportError
}

func runImport(t *testing.T, svc *contact.Service, b store.Brand, csv string) imported {
	t.Helper()
	var out imported
	p, err := svc.Import(context.Background(), b, strings.NewReader(csv), func(p contact.ImportProgress, s []store.ImportError) error {
		out.skipped = append(out.skipped, s...)
		return nil
	})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	out.p = p
	return out
}

func importBrand(t testing.TB) (*store.Store, store.Brand) {
	t.Helper()
	st, _ := storetest.New(t)
	b, err := st.UpsertBrand(context.Background(), store.BrandInput{Slug: "demo-air", Name: "Demo Air",
		Numbers: []store.BrandNumber{{Number: "+15005550006", MPS: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	return st, b
}

func count(t *testing.T, st *store.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The edge cases of a real export: a byte-order mark, a quoted newline,
// three phones in one cell, a duplicate inside the file, bad rows with
// their line and reason, attributes typed, consent recorded; the same file
// again changes nothing.
func TestImportEdgeCases(t *testing.T) {
	t.Parallel()
	st, b := importBrand(t)
	svc := contact.NewService(st)
	const file = "\ufeffphone,loyalty_id,name,timezone,tier,points,zip,note,consent_status,consent_at\n" +
		"(212) 555-0101,L1,Ana Lopez,America/New_York,gold,1500,02134,\"likes\nwindow seats\",opted_in,2026-11-01\n" +
		"\"+1 212 555 0102; 212-555-0103;+12125550104\",L2,Ben Three Phones,,silver,,,,opted_in,\n" +
		"not a phone,L3,Bad Phone,,,,,,,\n" +
		"+12125550105,L4,Bad Zone,Mars/Olympus,,,,,,\n" +
		"+12125550106,L5,Bad Date,,,,,,opted_in,yesterday\n" +
		"+12125550101,L9,Ana Again Other Member,,,,,,,\n" +
		"+12125550107,,Dup One,,,,,,,\n" +
		"+12125550107,,Dup Two,,,,,,,\n"
	got := runImport(t, svc, b, file)
	// (Ana's quoted newline makes her row lines 2 and 3.)
	wantSkipped := map[int64]string{5: "invalid phone", 6: "unknown time zone", 7: "bad date", 8: "another loyalty ID"}
	if len(got.skipped) != len(wantSkipped) {
		t.Fatalf("skipped %+v, want lines 5-8", got.skipped)
	}
	for _, s := range got.skipped {
		if !strings.Contains(s.Reason, wantSkipped[s.Line]) {
			t.Errorf("line %d: %q, want %q", s.Line, s.Reason, wantSkipped[s.Line])
		}
	}
	if got.p.Rows != 8 || got.p.Skipped != 4 || got.p.Imported != 4 {
		t.Fatalf("progress %+v", got.p)
	}
	cs, err := st.Contacts(context.Background(), store.ContactQuery{LoyaltyID: "L1"})
	if err != nil || len(cs) != 1 {
		t.Fatalf("L1: %v %v", cs, err)
	}
	a := cs[0]
	if a.Name != "Ana Lopez" || a.Timezone != "America/New_York" || a.Attributes["tier"] != "gold" || fmt.Sprint(a.Attributes["points"]) != "1500" ||
		a.Attributes["zip"] != "02134" || a.Attributes["note"] != "likes\nwindow seats" {
		t.Fatalf("L1 stored as %+v", a)
	}
	if n := count(t, st, `SELECT count(*) FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE c.loyalty_id = 'L2'`); n != 3 {
		t.Fatalf("L2 has %d phones, want 3", n)
	}
	if n := count(t, st, `SELECT count(DISTINCT contact_id) FROM contact_phones WHERE phone = '+12125550107'`); n != 1 {
		t.Fatal("the duplicate inside the file made two contacts")
	}
	if n := count(t, st, `SELECT count(*) FROM consent_events WHERE status = 'opted_in' AND source = 'import'`); n != 4 {
		t.Fatalf("%d opt-ins recorded, want 4 (Ana's phone and Ben's three)", n)
	}
	before := snapshot(t, st)
	again := runImport(t, svc, b, file)
	if again.p.Created != 0 || snapshot(t, st) != before {
		t.Fatalf("the same file twice changed something (%+v):\n%s\n%s", again.p, before, snapshot(t, st))
	}
}

func snapshot(t *testing.T, st *store.Store) string {
	t.Helper()
	var s string
	if err := st.Pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM contacts) || '/' || (SELECT count(*) FROM contact_phones) || '/' || (SELECT count(*) FROM consent_events) || '/' ||
		(SELECT coalesce(string_agg(c.id || c.name || c.attributes::text || coalesce(c.loyalty_id, '') || c.updated_at::text, ',' ORDER BY c.id), '') FROM contacts c)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A loyalty ID that names one contact while the row's phone is another's
// (no loyalty ID) merges them, through the identity rules; a texted STOP is
// never overridden by an imported opt-in.
func TestImportMergesAndNeverOverridesStop(t *testing.T) {
	t.Parallel()
	st, b := importBrand(t)
	svc := contact.NewService(st)
	ctx := context.Background()
	if _, err := svc.Upsert(ctx, contact.Upsert{LoyaltyID: "M1", Phones: []string{"+12125550201"}, Name: "Member"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Upsert(ctx, contact.Upsert{Phones: []string{"+12125550202"}, Name: "Unknown texter"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source) VALUES ($1, '+12125550203', 'marketing', 'opted_out', 'keyword')`, b.ID); err != nil {
		t.Fatal(err)
	}
	got := runImport(t, svc, b, "phones,loyalty_id,consent_status\n+12125550202,M1,\n+12125550203,M3,opted_in\n")
	if len(got.skipped) != 1 || got.skipped[0].Line != 3 || !strings.Contains(got.skipped[0].Reason, "opted out by text") {
		t.Fatalf("skipped %+v, want line 3 refused for the texted STOP", got.skipped)
	}
	if n := count(t, st, `SELECT count(DISTINCT p.contact_id) FROM contact_phones p WHERE p.phone IN ('+12125550201', '+12125550202')`); n != 1 {
		t.Fatal("the member and the texter were not merged")
	}
	if n := count(t, st, `SELECT count(*) FROM consent_events WHERE phone = '+12125550203' AND status = 'opted_in'`); n != 0 {
		t.Fatal("an import opted a customer back in after their STOP")
	}
}

// Many rows stream through in batches, each person once.
func TestImportManyRows(t *testing.T) {
	t.Parallel()
	st, b := importBrand(t)
	var sb strings.Builder
	sb.WriteString("phone,name,consent_status\n")
	const n = 3*contact.ImportBatch + 17
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "+1212556%04d,Person %d,opted_in\n", i, i)
	}
	batches := 0
	p, err := contact.NewService(st).Import(context.Background(), b, strings.NewReader(sb.String()), func(contact.ImportProgress, []store.ImportError) error {
		batches++
		return nil
	})
	if err != nil || p.Created != n || p.Imported != n || batches < 4 {
		t.Fatalf("%+v %v after %d batches", p, err, batches)
	}
	if c := count(t, st, `SELECT count(*) FROM consent_events`); c != n {
		t.Fatalf("%d consent entries, want %d", c, n)
	}
}

// A broken quote ends the import with the line named (the rows before it
// are imported), and does not crash; a row whose two phones are both
// refused an opt-in is one entry of the report.
func TestImportBrokenQuoteAndRowWithTwoRefusals(t *testing.T) {
	t.Parallel()
	st, b := importBrand(t)
	svc := contact.NewService(st)
	ctx := context.Background()
	for _, p := range []string{"+12125550301", "+12125550302"} {
		if _, err := st.Pool.Exec(ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source) VALUES ($1, $2, 'marketing', 'opted_out', 'keyword')`, b.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	var skipped []store.ImportError
	_, err := svc.Import(ctx, b, strings.NewReader("phones,consent_status,consent_source\n\"+12125550301;+12125550302\",opted_in,web_form\n"),
		func(_ contact.ImportProgress, s []store.ImportError) error {
			skipped = append(skipped, s...)
			return st.ImportProgress(ctx, mustImport(t, st, b), store.ImportCounts{Rows: 1, Imported: 1}, s)
		})
	if err != nil || len(skipped) != 2 || skipped[0].Line != 2 {
		t.Fatalf("%v %+v: want both phones refused on line 2, even from a web form", err, skipped)
	}
	p, err := svc.Import(ctx, b, strings.NewReader("phone,name\n+12125550303,Ana\nab\"c,x\n"), func(contact.ImportProgress, []store.ImportError) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line 3") || p.Imported != 1 {
		t.Fatalf("a broken quote: %+v %v", p, err)
	}
}

func mustImport(t *testing.T, st *store.Store, b store.Brand) int64 {
	t.Helper()
	id, err := st.CreateImport(context.Background(), b.ID, "t.csv", "test")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A brand's default country reads the numbers written without a country:
// a British brand's "020 7946 0958" is +44, and a number that is valid
// nowhere is reported with its line.
func TestImportUsesBrandCountry(t *testing.T) {
	t.Parallel()
	st, _ := storetest.New(t)
	ctx := context.Background()
	b, err := st.UpsertBrand(ctx, store.BrandInput{Slug: "demo-rail", Name: "Demo Rail", DefaultCountry: "GB",
		Numbers: []store.BrandNumber{{Number: "+442079460000", MPS: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	if b.DefaultCountry != "GB" {
		t.Fatalf("brand country %q", b.DefaultCountry)
	}
	got := runImport(t, contact.NewService(st), b, "phone,name\n020 7946 0958,Ana\n+1 212 555 0188,Bo\n(212) 555-0189,Cy\n")
	if got.p.Imported != 2 || len(got.skipped) != 1 {
		t.Fatalf("imported %d, skipped %+v", got.p.Imported, got.skipped)
	}
	if s := got.skipped[0]; s.Line != 4 || !strings.Contains(s.Reason, "not a valid GB number") {
		t.Errorf("skipped %+v; want line 4, not a valid GB number", s)
	}
	for _, p := range []string{"+442079460958", "+12125550188"} {
		if n := count(t, st, `SELECT count(*) FROM contact_phones WHERE phone = $1`, p); n != 1 {
			t.Errorf("%s stored %d times", p, n)
		}
	}
}

// Batches are written two at a time, but a phone's rows still land in the
// file's order: a later batch naming the same phones waits for the
// earlier one — its rows written one by one through the identity rules
// after its transaction included — so the last name and the last consent
// entry win. Two batches that share no phone but update the same two
// contacts in opposite orders (through each contact's other phone) both
// get written, a deadlock between them being retried. Progress comes in
// the file's order.
func TestImportBatchesInParallelKeepFileOrder(t *testing.T) {
	t.Parallel()
	st, b := importBrand(t)
	svc := contact.NewService(st)
	ctx := context.Background()
	// Two known contacts with two phones each.
	for _, phones := range [][]string{{"+12125557001", "+12125557002"}, {"+12125557003", "+12125557004"}} {
		if _, err := svc.Upsert(ctx, contact.Upsert{Phones: phones, Name: "Known"}); err != nil {
			t.Fatal(err)
		}
	}
	const n = contact.ImportBatch
	const m = 100
	var sb strings.Builder
	sb.WriteString("phones,name,consent_status\n")
	// Batch 1: m phones each given twice (alone, then with a second
	// phone), which the identity rules write one by one after the batch's
	// transaction, and new phones.
	for i := 0; i < m; i++ {
		fmt.Fprintf(&sb, "+1212558%04d,First %d,opted_in\n\"+1212558%04d;+1212557%04d\",Again %d,opted_in\n", i, i, i, i, i)
	}
	for i := 0; i < n-2*m; i++ {
		fmt.Fprintf(&sb, "+1212556%04d,New %d,opted_in\n", i, i)
	}
	// Batch 2: batch 1's twice-given phones again, renamed and opted out.
	for i := 0; i < m; i++ {
		fmt.Fprintf(&sb, "+1212558%04d,Second %d,opted_out\n", i, i)
	}
	for i := 0; i < n-m; i++ {
		fmt.Fprintf(&sb, "+1212555%04d,New %d,opted_in\n", i, i)
	}
	// Batches 3 and 4 share no phone: the first phone of each known
	// contact, then the other phones in the other order.
	sb.WriteString("+12125557001,First A,opted_in\n+12125557003,First B,opted_in\n")
	for i := 0; i < n-2; i++ {
		fmt.Fprintf(&sb, "+1212554%04d,Other %d,opted_in\n", i, i)
	}
	sb.WriteString("+12125557004,Second B,opted_in\n+12125557002,Second A,opted_in\n")
	for i := 0; i < n-2; i++ {
		fmt.Fprintf(&sb, "+1212553%04d,Other %d,opted_in\n", i, i)
	}
	total := int64(4 * n)
	var rows []int64
	p, err := svc.Import(ctx, b, strings.NewReader(sb.String()), func(p contact.ImportProgress, _ []store.ImportError) error {
		rows = append(rows, p.Rows)
		return nil
	})
	if err != nil || p.Skipped != 0 || p.Imported != total {
		t.Fatalf("%+v %v", p, err)
	}
	if !slices.IsSorted(rows) || len(rows) < 3 || rows[len(rows)-1] != total {
		t.Fatalf("progress out of order: %v", rows)
	}
	if c := count(t, st, `SELECT count(*) FROM contacts c JOIN contact_phones cp ON cp.contact_id = c.id
		WHERE cp.phone LIKE '+1212558%' AND c.name = 'Second ' || (substr(cp.phone, 9)::int)::text`); c != m {
		t.Fatalf("%d of %d contacts have their last row's name", c, m)
	}
	if c := count(t, st, `SELECT count(*) FROM (SELECT DISTINCT ON (phone) phone, status FROM consent_events
		WHERE phone LIKE '+1212558%' ORDER BY phone, id DESC) last WHERE status = 'opted_out'`); c != m {
		t.Fatalf("%d of %d phones end opted out", c, m)
	}
	if c := count(t, st, `SELECT count(*) FROM contacts WHERE name IN ('First A', 'Second A', 'First B', 'Second B')`); c != 2 {
		t.Fatalf("%d known contacts renamed by the file, want 2", c)
	}
	if c := count(t, st, `SELECT count(*) FROM contacts WHERE merged_into IS NULL`); c != 2+m+(n-2*m)+(n-m)+2*(n-2) {
		t.Fatalf("%d contacts, want %d", c, 2+m+(n-2*m)+(n-m)+2*(n-2))
	}
}
