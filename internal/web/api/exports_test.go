package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// exported is a download through the API: status, headers and body.
type exported struct {
	Status int
	Header http.Header
	Body   string
}

func (b *bundle) export(t *testing.T, path string) exported {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	return exported{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
}

// put upserts a contact through the API and returns its id.
func (b *bundle) put(t *testing.T, body map[string]any) int64 {
	t.Helper()
	res := b.call(t, http.MethodPut, "/api/v1/contacts", body)
	if res.Status != http.StatusOK && res.Status != http.StatusCreated {
		t.Fatalf("PUT /contacts %v: %d %s", body, res.Status, res.Body)
	}
	var out one[contactOut]
	res.decode(t, res.Status, &out)
	return out.Data.ID
}

func consentEntry(brand, purpose, status, source, evidence string) []map[string]string {
	return []map[string]string{{"brand": brand, "purpose": purpose, "status": status, "source": source, "evidence": evidence}}
}

// wantFile checks a download's headers and that its body is exactly want.
func wantFile(t *testing.T, got exported, kind, slug, want string) {
	t.Helper()
	if got.Status != http.StatusOK {
		t.Fatalf("%s export: %d %s", kind, got.Status, got.Body)
	}
	if ct := got.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	today := time.Now().UTC()
	cd := got.Header.Get("Content-Disposition")
	if cd != fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, kind, slug, today.Format("20060102")) &&
		cd != fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, kind, slug, today.Add(-time.Minute).Format("20060102")) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if got.Body != want {
		t.Errorf("%s file:\n%s\nwant:\n%s", kind, got.Body, want)
	}
}

// The contacts and consent files of a small hand-made set, byte for byte:
// a merged contact is absent (its survivor holds both phones), attribute
// columns are the sorted union of the brand's contacts' keys with values
// as text (a clashing key left out), each row carries its first phone's
// consent states, a recycled phone's history stays whole in the ledger
// while its new owner shows the opt-out the reassignment wrote, and people
// of another brand or of none are not listed.
func TestExportContents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ana := b.put(t, map[string]any{"loyalty_id": "L-100", "phones": []string{"+12125550101"}, "name": "Ana Lima", "timezone": "America/New_York",
		"attributes": map[string]any{"tier": "gold", "points": 1250, "vip": true, "prefs": map[string]any{"seat": "aisle", "meals": []string{"veg"}},
			"since": "2019-04-01", "big": json.Number("12345678901234567890"), "ratio": 1.5e-7, "Name": "clashes with the name column"},
		"consent": consentEntry("demoair", "marketing", "opted_in", "web_form", `checkout box, "ticked"`)})
	ben := b.text(t, b.air, "+12125550102", "hello", t0).ContactID
	b.put(t, map[string]any{"phones": []string{"+12125550102"}, "name": "Ben", "attributes": map[string]any{"city": "Paris"},
		"consent": consentEntry("demoair", "conversational", "opted_out", "api", "asked by email")})
	cara1 := b.put(t, map[string]any{"phones": []string{"+12125550103"}, "name": "Cara", "consent": consentEntry("demoair", "marketing", "opted_in", "api", "x")})
	cara2 := b.put(t, map[string]any{"loyalty_id": "L-300", "phones": []string{"+12125550104"}, "attributes": map[string]any{"tier": "silver"}})
	if got := b.put(t, map[string]any{"loyalty_id": "L-300", "phones": []string{"+12125550103", "+12125550104"}}); got != cara2 {
		t.Fatalf("merge kept %d, want the loyalty member %d", got, cara2)
	}
	dan := b.text(t, b.air, "+12125550105", "hi", t0.Add(time.Minute)).ContactID
	b.put(t, map[string]any{"loyalty_id": "L-400", "phones": []string{"+12125550105"}, "name": "Dan",
		"consent": consentEntry("demoair", "marketing", "opted_in", "web_form", "signup form")})
	eve := b.put(t, map[string]any{"loyalty_id": "L-500", "phones": []string{"+12125550105"}, "name": "Eve"}) // the number is recycled
	guest := b.put(t, map[string]any{"phones": []string{"+12125550106"}, "name": "Hotel guest", "attributes": map[string]any{"room": 12},
		"consent": consentEntry("demohotel", "marketing", "opted_in", "api", "front desk")})
	b.put(t, map[string]any{"phones": []string{"+12125550107"}, "name": "Nobody's", "attributes": map[string]any{"orphan": 1}})
	b.sid++
	stop, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{SID: fmt.Sprintf("SM%032d", b.sid), BrandID: b.air.ID, From: "+12125550108",
		To: b.air.Numbers[0].Number, Body: "STOP", ReceivedAt: t0.Add(2 * time.Minute), Segments: 1, Encoding: "GSM-7",
		Consent: "opt_out", Evidence: "STOP"}})
	if err != nil {
		t.Fatal(err)
	}
	// An old entry with no contact behind it, at a known time.
	if _, err := b.st.Pool.Exec(b.ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, created_at)
		VALUES ($1, '+12125550109', 'marketing', 'opted_in', 'import', 'old list', '2025-03-01 15:00:00.123456+00')`, b.air.ID); err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, `SELECT count(*) FROM contacts WHERE id = $1 AND merged_into = $2`, cara1, cara2); n != 1 {
		t.Fatal("the first Cara was not merged into the loyalty member")
	}

	rows := map[int64]string{
		ana:               `,+12125550101,L-100,Ana Lima,America/New_York,12345678901234567890,,1250,"{""seat"": ""aisle"", ""meals"": [""veg""]}",0.00000015,2019-04-01,gold,true,opted_in,none`,
		ben:               `,+12125550102,,Ben,,,Paris,,,,,,,none,opted_out`,
		cara2:             `,+12125550103;+12125550104,L-300,Cara,,,,,,,,silver,,opted_in,none`,
		dan:               `,,L-400,Dan,,,,,,,,,,none,none`,
		eve:               `,+12125550105,L-500,Eve,,,,,,,,,,opted_out,none`,
		stop[0].ContactID: `,+12125550108,,,,,,,,,,,,opted_out,opted_out`,
	}
	ids := make([]int64, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	want := "id,phones,loyalty_id,name,timezone,big,city,points,prefs,ratio,since,tier,vip,consent_marketing,consent_conversational\n"
	for _, id := range ids {
		want += fmt.Sprint(id) + rows[id] + "\n"
	}
	wantFile(t, b.export(t, "/api/v1/contacts/export?brand=demoair"), "contacts", "demoair", want)
	wantFile(t, b.export(t, "/api/v1/contacts/export?brand=demohotel"), "contacts", "demohotel",
		"id,phones,loyalty_id,name,timezone,room,consent_marketing,consent_conversational\n"+
			fmt.Sprint(guest)+",+12125550106,,Hotel guest,,12,opted_in,none\n")

	// The ledger: every entry of the brand, oldest first, ids and times as
	// recorded (read back here; the last one's time was set above).
	entries := []string{
		`+12125550101,marketing,opted_in,web_form,"checkout box, ""ticked""",`,
		`+12125550102,conversational,opted_out,api,asked by email,`,
		`+12125550103,marketing,opted_in,api,x,`,
		`+12125550105,marketing,opted_in,web_form,signup form,`,
		fmt.Sprintf(`+12125550105,marketing,opted_out,api,number reassigned from contact %d to contact %d,`, dan, eve),
		fmt.Sprintf(`+12125550108,conversational,opted_out,keyword,STOP,%d`, stop[0].MessageID),
		fmt.Sprintf(`+12125550108,marketing,opted_out,keyword,STOP,%d`, stop[0].MessageID),
		`+12125550109,marketing,opted_in,import,old list,`,
	}
	recorded, err := b.st.Pool.Query(b.ctx, `SELECT id, created_at FROM consent_events WHERE brand_id = $1 ORDER BY id`, b.air.ID)
	if err != nil {
		t.Fatal(err)
	}
	want = "id,phone,purpose,status,source,evidence,message_id,created_at,campaign_id\n"
	i := 0
	for recorded.Next() {
		var id int64
		var at time.Time
		if err := recorded.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		if i < len(entries) {
			want += fmt.Sprintf("%d,%s,%s,\n", id, entries[i], at.UTC().Format(time.RFC3339Nano))
		}
		i++
	}
	if recorded.Err() != nil || i != len(entries) {
		t.Fatalf("%d ledger entries for demoair, want %d (%v)", i, len(entries), recorded.Err())
	}
	if !strings.HasSuffix(want, ",2025-03-01T15:00:00.123456Z,\n") {
		t.Fatalf("the entry written at a known time reads %q", want[strings.LastIndex(want[:len(want)-1], "\n")+1:])
	}
	wantFile(t, b.export(t, "/api/v1/consent/export?brand=demoair"), "consent", "demoair", want)

	// Refusals before the first byte are the API's JSON errors.
	b.call(t, http.MethodGet, "/api/v1/contacts/export", nil).expectError(t, http.StatusBadRequest, "missing_field", "brand")
	b.call(t, http.MethodGet, "/api/v1/consent/export?brand=nope", nil).expectError(t, http.StatusNotFound, "brand_not_found", "brand")
	hotelOnly := b.keyWith(t, "pk_hotelonly_0123456789", store.KeyAccess{BrandIDs: []int64{b.hotel.ID}, AllScopes: true, Rate: 1000})
	for _, p := range []string{"/api/v1/contacts/export?brand=demoair", "/api/v1/consent/export?brand=demoair"} {
		b.callAs(t, hotelOnly, http.MethodGet, p, nil).expectError(t, http.StatusForbidden, "forbidden", "brand")
	}
}

func (b *bundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := b.st.Pool.QueryRow(b.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A contacts file imports back into an empty database as the same people:
// phones, loyalty IDs, names (quotes and commas), time zones and
// attributes (numbers stay numbers, a zero-padded code stays text). The
// export's id and consent columns are dropped first: the import reads every
// column it does not know as an attribute, and consent is not carried
// from one brand's file into a database.
func TestExportImportsBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := []int64{
		b.put(t, map[string]any{"loyalty_id": "L-1", "phones": []string{"+12125550201", "+33612345678"}, "name": `Ana "Lima", Jr.`,
			"timezone": "Europe/Paris", "attributes": map[string]any{"tier": "gold", "points": 1250, "zip": "02134", "ratio": 0.5,
				"note": "likes window seats, not aisles"},
			"consent": consentEntry("demoair", "marketing", "opted_in", "api", "form")}),
		b.put(t, map[string]any{"phones": []string{"+12125550202"}, "name": "Ben", "attributes": map[string]any{"city": "Paris"},
			"consent": consentEntry("demoair", "marketing", "opted_out", "api", "asked")}),
		b.put(t, map[string]any{"loyalty_id": "L-3", "phones": []string{"+12125550203", "+12125550204", "+447911123456"},
			"timezone": "Asia/Tokyo", "consent": consentEntry("demoair", "conversational", "opted_in", "api", "desk")}),
		b.text(t, b.air, "+12125550205", "hello", t0).ContactID,
	}
	got := b.export(t, "/api/v1/contacts/export?brand=demoair")
	if got.Status != http.StatusOK || strings.Count(got.Body, "\n") != len(ids)+1 {
		t.Fatalf("export: %d\n%s", got.Status, got.Body)
	}
	file := []byte(got.Body) // imported as downloaded

	st2, _ := storetest.New(t)
	fresh, err := st2.UpsertBrand(b.ctx, store.BrandInput{Slug: "demoair", Name: "DemoAir"})
	if err != nil {
		t.Fatal(err)
	}
	var skipped []store.ImportError
	p, err := contact.NewService(st2).Import(b.ctx, fresh, bytes.NewReader(file), func(_ contact.ImportProgress, s []store.ImportError) error {
		skipped = append(skipped, s...)
		return nil
	})
	if err != nil || len(skipped) > 0 || p.Rows != int64(len(ids)) || p.Created != int64(len(ids)) {
		t.Fatalf("import: %+v %v, skipped %+v", p, err, skipped)
	}
	for _, id := range ids {
		was, err := b.st.ContactByID(b.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		now, err := st2.Contacts(b.ctx, store.ContactQuery{Phone: was.Phones[0]})
		if err != nil || len(now) != 1 {
			t.Fatalf("%s after the import: %+v %v", was.Phones[0], now, err)
		}
		n := now[0]
		if !slices.Equal(n.Phones, was.Phones) || n.LoyaltyID != was.LoyaltyID || n.Name != was.Name || n.Timezone != was.Timezone ||
			!reflect.DeepEqual(n.Attributes, was.Attributes) {
			t.Errorf("contact %d came back as\n%+v\nwas\n%+v", id, n, was)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM contacts`); n != len(ids) {
		t.Fatalf("%d contacts in the source", n)
	}
}

// streamRecorder is a response writer that keeps nothing of the body but
// its size, its lines and when it was flushed.
type streamRecorder struct {
	header       http.Header
	status       int
	bytes, lines int64
	flushes      int
	firstFlush   int64 // bytes written at the first flush
	start        []byte
}

func (r *streamRecorder) Header() http.Header { return r.header }
func (r *streamRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *streamRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if len(r.start) < 200 {
		r.start = append(r.start, p[:min(len(p), 200-len(r.start))]...)
	}
	r.bytes += int64(len(p))
	r.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

func (r *streamRecorder) Flush() {
	if r.flushes == 0 {
		r.firstFlush = r.bytes
	}
	r.flushes++
}

// addContacts inserts n contacts of brand, each with a phone, four
// attributes and a marketing opt-in, in one statement.
func addContacts(tb testing.TB, st *store.Store, brandID int64, n int) {
	tb.Helper()
	_, err := st.Pool.Exec(context.Background(), `
		WITH c AS (
			INSERT INTO contacts (name, timezone, attributes)
			SELECT 'Guest number ' || g, 'Europe/Paris', jsonb_build_object('tier', (ARRAY['gold', 'silver', 'bronze'])[1 + g % 3],
				'points', g * 7, 'city', 'City ' || (g % 100), 'note', repeat('x', 40))
			FROM generate_series(1, $2::int) g RETURNING id),
		p AS (INSERT INTO contact_phones (phone, contact_id) SELECT '+1646' || lpad(id::text, 7, '0'), id FROM c RETURNING phone)
		INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence)
		SELECT $1, phone, 'marketing', 'opted_in', 'import', 'generated' FROM p`, brandID, n)
	if err != nil {
		tb.Fatal(err)
	}
}

// streamExport runs one export through the server into a streamRecorder
// and returns it with the peak growth of the heap in use meanwhile.
func streamExport(tb testing.TB, b *bundle, path string) (*streamRecorder, uint64, time.Duration) {
	tb.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var ms runtime.MemStats
		top := base
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapInuse)
			}
		}
	}()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := &streamRecorder{header: http.Header{}}
	began := time.Now()
	b.e.ServeHTTP(rec, req)
	took := time.Since(began)
	close(stop)
	return rec, <-peak - base, took
}

// An export streams: 50,000 contacts go out in many flushes, the first
// long before the end, and the heap in use while they go is no larger
// than while 5,000 go. Not parallel: the heap measured must be this
// test's alone (parallel tests wait until the sequential ones are done),
// and the collector runs often meanwhile (GOGC 10) so that the peak is
// what is live, not garbage waiting for a collection.
func TestExportStreamsInConstantMemory(t *testing.T) {
	b := setup(t)
	const small, large = 5000, 50000
	addContacts(t, b.st, b.air.ID, small)
	addContacts(t, b.st, b.hotel.ID, large)
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	var heaps []uint64
	for _, c := range []struct {
		brand string
		rows  int64
	}{{"demoair", small}, {"demohotel", large}} {
		rec, heap, took := streamExport(t, b, "/api/v1/contacts/export?brand="+c.brand)
		if rec.status != http.StatusOK || rec.lines != c.rows+1 ||
			!bytes.HasPrefix(rec.start, []byte("id,phones,loyalty_id,name,timezone,city,note,points,tier,consent_marketing,consent_conversational\n")) {
			t.Fatalf("%s: %d, %d lines, starting %q", c.brand, rec.status, rec.lines, rec.start)
		}
		if int64(rec.flushes) < c.rows/contact.ExportFlushRows || rec.firstFlush*5 > rec.bytes {
			t.Errorf("%s: %d flushes, the first after %d of %d bytes: the file was not streamed", c.brand, rec.flushes, rec.firstFlush, rec.bytes)
		}
		t.Logf("%d contacts: %d bytes in %v (%.0f rows/s), %d flushes, peak heap growth %.1f MiB",
			c.rows, rec.bytes, took.Round(time.Millisecond), float64(c.rows)/took.Seconds(), rec.flushes, float64(heap)/(1<<20))
		heaps = append(heaps, heap)
	}
	// Holding the 50,000 rows (6.4 MB of CSV) would show as megabytes more
	// than the 5,000: collecting the rows in a slice first measured 26 MiB
	// against 3.
	if heaps[1] > heaps[0]+3<<20 {
		t.Errorf("peak heap growth %d bytes for %d rows, %d for %d: memory grows with the export", heaps[1], large, heaps[0], small)
	}

	// The consent ledger streams the same way.
	rec, heap, took := streamExport(t, b, "/api/v1/consent/export?brand=demohotel")
	if rec.status != http.StatusOK || rec.lines != large+1 || int64(rec.flushes) < large/contact.ExportFlushRows || rec.firstFlush*5 > rec.bytes {
		t.Fatalf("consent: %d, %d lines, %d flushes, the first after %d of %d bytes", rec.status, rec.lines, rec.flushes, rec.firstFlush, rec.bytes)
	}
	t.Logf("%d ledger entries: %d bytes in %v (%.0f rows/s), peak heap growth %.1f MiB",
		large, rec.bytes, took.Round(time.Millisecond), float64(large)/took.Seconds(), float64(heap)/(1<<20))
}

// BenchmarkContactsExport: rows/s of a contacts export through the API
// handler (PARLEY_BENCH_EXPORT_ROWS contacts, default 50,000), and, as the
// baseline in the same run, Postgres's own COPY of the same columns to
// the client (no attributes split out, no consent lookups).
func BenchmarkContactsExport(b *testing.B) {
	n := 50000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_EXPORT_ROWS")); err == nil && v > 0 {
		n = v
	}
	w := setup(b)
	addContacts(b, w.st, w.air.ID, n)
	var exportSecs, copySecs float64
	var heap uint64
	for b.Loop() {
		rec, h, took := streamExport(b, w, "/api/v1/contacts/export?brand=demoair")
		if rec.status != http.StatusOK || rec.lines != int64(n)+1 {
			b.Fatalf("export: %d, %d lines", rec.status, rec.lines)
		}
		exportSecs += took.Seconds()
		heap = max(heap, h)
		conn, err := w.st.Pool.Acquire(w.ctx)
		if err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		_, err = conn.Conn().PgConn().CopyTo(w.ctx, io.Discard, `COPY (SELECT c.id, (SELECT string_agg(p.phone, ';') FROM contact_phones p WHERE p.contact_id = c.id),
			c.loyalty_id, c.name, c.timezone, c.attributes FROM contacts c WHERE c.merged_into IS NULL ORDER BY c.id) TO STDOUT WITH (FORMAT csv, HEADER)`)
		copySecs += time.Since(began).Seconds()
		conn.Release()
		if err != nil {
			b.Fatal(err)
		}
	}
	runs := float64(b.N)
	b.ReportMetric(float64(n)*runs/exportSecs, "rows/s")
	b.ReportMetric(float64(n)*runs/copySecs, "copy-rows/s")
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
}
