package contact

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/store"
)

// The columns an import reads by name; any other column is an attribute.
const (
	colPhone     = "phone"
	colPhones    = "phones"
	colLoyalty   = "loyalty_id"
	colName      = "name"
	colTimezone  = "timezone"
	colPurpose   = "consent_purpose"
	colStatus    = "consent_status"
	colSource    = "consent_source"
	colEvidence  = "consent_evidence"
	colConsentAt = "consent_at"
)

// ImportBatch is how many rows one transaction imports, at most: a batch
// is cut earlier when its rows name as many phones and loyalty IDs as the
// server lets a batch lock (store.ImportKeyBudget).
const ImportBatch = 2000

// ImportProgress is how far an import got.
type ImportProgress struct {
	Rows     int64 // data rows read
	Imported int64 // rows written (new or updated contacts, or nothing to change)
	Created  int64 // new contacts
	Skipped  int64 // rows refused
	Bytes    int64 // of the file read so far
}

// ImportSink receives an import's progress after each batch, with the rows
// it skipped in that batch (line numbers count the header as line 1).
type ImportSink func(p ImportProgress, skipped []store.ImportError) error

// ErrBadHeader is returned when the file's first row is not a usable
// header.
var ErrBadHeader = errors.New("the first row must name the columns, with phone or phones among them")

// Import reads a contacts CSV and imports it into brand b, streaming: a
// batch of rows at a time, in constant memory (apart from one small hash
// per phone, to catch a phone given two loyalty IDs anywhere in the file).
// Bad rows — an invalid phone, two loyalty IDs for one phone, a bad date,
// an unknown time zone, a consent value that is not one — are reported
// with their line and reason and skipped; the good rows are imported. The
// plain rows go through store.ImportBatch's set-based path; the others
// (a merge, a recycled number, a phone repeated in the batch) through the
// identity rules one by one, as an API upsert would.
func (s *Service) Import(ctx context.Context, b store.Brand, r io.Reader, sink ImportSink) (ImportProgress, error) {
	var p ImportProgress
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 1<<16)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	rd := csv.NewReader(br)
	rd.FieldsPerRecord = -1
	rd.ReuseRecord = true
	header, err := rd.Read()
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrBadHeader, err)
	}
	cols, err := readHeader(header)
	if err != nil {
		return p, err
	}
	cols.country = b.DefaultCountry
	maxKeys, err := s.st.ImportKeyBudget(ctx)
	if err != nil {
		return p, err
	}
	// Reading and checking rows (CSV, phone numbers) runs on its own
	// goroutine, one batch ahead of the writing: the two overlap.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan importChunk, 1)
	go func() {
		defer close(chunks)
		parseRows(ctx, rd, cols, cr, maxKeys, chunks)
	}()
	// Batches are written by ImportSessions sessions at once, each its own
	// transaction on its own connection: Postgres, one backend per session,
	// is what bounds an import. Two batches run together only when no phone
	// or loyalty ID is in both, so every phone's and loyalty ID's rows are
	// still written in the file's order; progress is reported in the
	// file's order too.
	//
	// Rows that need the identity rules take one more connection while
	// the sessions are held, so a pool of n connections gets n-1 sessions:
	// with every connection held by a session, the first merge in a file
	// would wait for a connection forever.
	nSessions := min(ImportSessions, s.st.MaxConns()-1)
	if nSessions < 1 {
		return p, fmt.Errorf("contact: import: a pool of %d connections, at least 2 needed", s.st.MaxConns())
	}
	sessions := make(chan *store.ImportSession, nSessions)
	for i := range nSessions {
		sess, err := s.st.NewImportSession(ctx, i, maxKeys)
		if err != nil {
			close(sessions)
			for x := range sessions {
				x.Close()
			}
			return p, err
		}
		sessions <- sess
	}
	defer func() {
		cancel() // a batch still in flight after a failure stops soon
		for range nSessions {
			(<-sessions).Close()
		}
	}()
	var inflight []*batchJob // in the file's order
	report := func(j *batchJob) error {
		<-j.done
		if j.err != nil {
			return j.err
		}
		p.Rows += j.ch.rows
		p.Skipped += j.ch.skippedRows + j.skipped
		p.Imported += j.ch.mergedRows + j.imported
		p.Created += j.created
		p.Bytes = j.ch.bytes
		if err := sink(p, j.errs); err != nil {
			return err
		}
		return j.ch.err
	}
	for ch := range chunks {
		j := &batchJob{ch: ch, keys: batchKeys(ch.batch), done: make(chan struct{})}
		// Wait for every batch in flight that shares a key with this one,
		// and for a free session; report what has finished, in order.
		for len(inflight) > 0 {
			head := inflight[0]
			if len(inflight) < nSessions && !slices.ContainsFunc(inflight, j.overlaps) {
				select {
				case <-head.done:
				default:
					goto dispatch
				}
			}
			if err := report(head); err != nil {
				return p, err
			}
			inflight = inflight[1:]
		}
	dispatch:
		inflight = append(inflight, j)
		sess := <-sessions
		go func() {
			defer func() { sessions <- sess }()
			s.writeBatch(ctx, sess, b, j)
		}()
	}
	for _, j := range inflight {
		if err := report(j); err != nil {
			return p, err
		}
	}
	return p, ctx.Err()
}

// ImportSessions is how many batches of an import are written at once.
const ImportSessions = 2

// MaxRunningImports is how many uploaded imports (RunImport) one process
// runs at once.
const MaxRunningImports = 2

var runningImports = make(chan struct{}, MaxRunningImports)

// batchJob is one batch on its way to the database, and what it did.
type batchJob struct {
	ch   importChunk
	keys map[string]struct{}
	done chan struct{}

	imported, created, skipped int64
	errs                       []store.ImportError // refused rows, by line
	err                        error
}

// overlaps reports whether o names a phone or loyalty ID j names.
func (j *batchJob) overlaps(o *batchJob) bool {
	a, b := j.keys, o.keys
	if len(a) > len(b) {
		a, b = b, a
	}
	for k := range a {
		if _, ok := b[k]; ok {
			return true
		}
	}
	return false
}

// batchKeys are the phones and loyalty IDs of a batch's rows.
func batchKeys(rows []store.ImportRow) map[string]struct{} {
	keys := make(map[string]struct{}, len(rows)+len(rows)/4)
	for _, r := range rows {
		for _, ph := range r.Phones {
			keys[ph] = struct{}{}
		}
		if r.LoyaltyID != "" {
			keys["loyalty:"+r.LoyaltyID] = struct{}{}
		}
	}
	return keys
}

// writeBatch writes j's rows through sess (the plain rows set-based, the
// others one by one through the identity rules) and closes j.done. A batch
// that Postgres aborts as a conflict (a deadlock: two batches that share
// no key may still update one contact, through two of its phones) is
// written again, up to three times: its transaction was rolled back whole.
func (s *Service) writeBatch(ctx context.Context, sess *store.ImportSession, b store.Brand, j *batchJob) {
	defer close(j.done)
	j.errs = j.ch.skipped
	if len(j.ch.batch) > 0 {
		var res store.ImportBatchResult
		var err error
		for attempt := 0; ; attempt++ {
			res, err = sess.ImportBatch(ctx, b.ID, j.ch.batch)
			if !store.IsConflict(err) || attempt == 3 {
				break
			}
		}
		if err != nil {
			j.err = err
			return
		}
		j.created = int64(res.Created)
		bad := map[int64]bool{}
		for _, i := range res.Complex {
			row := j.ch.batch[i]
			if err := s.importOne(ctx, b, row); err != nil {
				j.errs = append(j.errs, store.ImportError{Line: row.Line, Reason: err.Error()})
				bad[row.Line] = true
			}
		}
		j.errs = append(j.errs, res.Errors...)
		j.imported = int64(len(j.ch.batch) - len(bad))
		j.skipped = int64(len(bad))
	}
	slices.SortFunc(j.errs, func(a, b store.ImportError) int { return int(a.Line - b.Line) })
}

// importChunk is one batch of checked rows, with the rows refused while
// reading it.
type importChunk struct {
	batch       []store.ImportRow
	skipped     []store.ImportError
	rows        int64 // data rows read
	skippedRows int64 // of them refused
	mergedRows  int64 // of them the same person again in the batch (merged into an earlier row)
	bytes       int64 // of the file read so far
	err         error // the file cannot be read further
}

// parseRows reads and checks rows into chunks of ImportBatch rows, or
// fewer when their phones and loyalty IDs reach maxKeys.
func parseRows(ctx context.Context, rd *csv.Reader, cols columns, cr *countingReader, maxKeys int, out chan<- importChunk) {
	seen := map[uint64]uint64{} // phone → loyalty ID (hashes), for the whole file
	dups := map[string]int{}    // identityKey → index in the batch
	var ch importChunk
	keys := 0 // the batch's phones and loyalty IDs
	send := func() bool {
		keys = 0
		ch.bytes = cr.n
		select {
		case out <- ch:
		case <-ctx.Done():
			return false
		}
		ch = importChunk{}
		clear(dups)
		return true
	}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				// The file cannot be read past a broken quote.
				ch.rows++
				ch.skippedRows++
				ch.skipped = append(ch.skipped, store.ImportError{Line: int64(pe.StartLine), Reason: "not valid CSV: " + pe.Err.Error()})
				ch.err = fmt.Errorf("line %d: not valid CSV: %w", pe.StartLine, pe.Err)
				send()
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		line, _ := rd.FieldPos(0) // after a successful read: the record's first field is known
		if blank(rec) {
			continue
		}
		ch.rows++
		row, err := cols.row(int64(line), rec)
		if err == nil {
			err = checkLoyalty(seen, row)
		}
		switch {
		case err != nil:
			ch.skippedRows++
			ch.skipped = append(ch.skipped, store.ImportError{Line: int64(line), Reason: err.Error()})
		case mergeDuplicate(ch.batch, dups, row):
			ch.mergedRows++ // the same person again in this batch: one row, the later values winning
		default:
			dups[identityKey(row)] = len(ch.batch)
			ch.batch = append(ch.batch, row)
			keys += rowKeys(row)
		}
		if len(ch.batch) >= ImportBatch || len(ch.skipped) >= ImportBatch || keys+maxRowKeys > maxKeys {
			if !send() {
				return
			}
		}
	}
	send()
}

// maxRowKeys is the most phones and loyalty IDs one row may name: a batch
// is sent before the next row could take it past its budget.
const maxRowKeys = maxPhones + 1

// rowKeys is how many phones and loyalty IDs row names.
func rowKeys(row store.ImportRow) int {
	if row.LoyaltyID != "" {
		return len(row.Phones) + 1
	}
	return len(row.Phones)
}

// importOne runs a row through the identity rules (merges included).
func (s *Service) importOne(ctx context.Context, b store.Brand, row store.ImportRow) error {
	in := Upsert{LoyaltyID: row.LoyaltyID, Phones: row.Phones, Name: row.Name, Timezone: row.Timezone, Country: b.DefaultCountry}
	if len(row.Attributes) > 0 {
		raw, err := json.Marshal(row.Attributes)
		if err != nil {
			return err
		}
		in.Attributes = raw
	}
	if c := row.Consent; c != nil {
		in.Consent = []ConsentEntry{{Brand: b.Slug, Purpose: c.Purpose, Status: c.Status, Source: c.Source, Evidence: c.Evidence}}
	}
	_, err := s.Upsert(ctx, in)
	var fe *FieldError
	if errors.As(err, &fe) {
		return errors.New(fe.Field + ": " + fe.Msg)
	}
	return err
}

// checkLoyalty refuses a row whose phone was given another loyalty ID
// earlier in the file.
func checkLoyalty(seen map[uint64]uint64, row store.ImportRow) error {
	lh := uint64(0)
	if row.LoyaltyID != "" {
		lh = hash64(row.LoyaltyID)
	}
	for _, ph := range row.Phones {
		k := hash64(ph)
		prev, ok := seen[k]
		if ok && prev != 0 && lh != 0 && prev != lh {
			return fmt.Errorf("phone %s has another loyalty ID earlier in the file: one phone, one member", ph)
		}
		if !ok || prev == 0 {
			seen[k] = lh
		}
	}
	return nil
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64() | 1 // never 0: 0 is "no loyalty ID"
}

type columns struct {
	index map[string]int
	attrs []string // attribute column names, by index (""  for a known column)
	// country is the brand's default country, for phones written without one.
	country string
}

func readHeader(h []string) (columns, error) {
	c := columns{index: map[string]int{}, attrs: make([]string, len(h))}
	for i, name := range h {
		n := strings.ToLower(strings.TrimSpace(name))
		if n == "" {
			return c, fmt.Errorf("%w: column %d has no name", ErrBadHeader, i+1)
		}
		if _, dup := c.index[n]; dup {
			return c, fmt.Errorf("%w: column %q appears twice", ErrBadHeader, n)
		}
		c.index[n] = i
		switch n {
		case colPhone, colPhones, colLoyalty, colName, colTimezone, colPurpose, colStatus, colSource, colEvidence, colConsentAt:
		case colID, colConsentMarketing, colConsentConversational:
			// An export's own columns, read as nothing: ids are this
			// database's, and consent is never carried over from a file
			// without its purpose, source and evidence.
		default:
			c.attrs[i] = strings.TrimSpace(name)
		}
	}
	_, p1 := c.index[colPhone]
	_, p2 := c.index[colPhones]
	if !p1 && !p2 {
		return c, ErrBadHeader
	}
	return c, nil
}

func (c columns) get(rec []string, name string) string {
	if i, ok := c.index[name]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

var (
	numberValue = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,14})(\.[0-9]+)?$`)
	zoneCache   Zones
)

// row checks one record.
func (c columns) row(line int64, rec []string) (store.ImportRow, error) {
	row := store.ImportRow{Line: line}
	raw := c.get(rec, colPhones)
	if one := c.get(rec, colPhone); one != "" {
		raw = one + ";" + raw
	}
	for _, p := range strings.Split(raw, ";") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		// Not through NormalizePhone's cache: a file's numbers are mostly
		// distinct, and remembering each cost more than it saved.
		e, err := normalizePhone(p, cmp.Or(c.country, DefaultCountry))
		if err != nil {
			return row, fmt.Errorf("invalid phone %q: %v", p, err)
		}
		if !slices.Contains(row.Phones, e) {
			row.Phones = append(row.Phones, e)
		}
	}
	if len(row.Phones) > maxPhones {
		return row, fmt.Errorf("%d phones; at most %d in one row", len(row.Phones), maxPhones)
	}
	if len(row.Phones) == 0 {
		return row, errors.New("no phone")
	}
	row.LoyaltyID, row.Name = c.get(rec, colLoyalty), c.get(rec, colName)
	if len(row.LoyaltyID) > 100 || len([]rune(row.Name)) > 200 {
		return row, errors.New("loyalty_id is at most 100 characters, name at most 200")
	}
	if tz := c.get(rec, colTimezone); tz != "" {
		if _, ok := zoneCache.load(tz); !ok || tz == "Local" {
			return row, fmt.Errorf("unknown time zone %q", tz)
		}
		row.Timezone = tz
	}
	for i, name := range c.attrs {
		if name == "" || i >= len(rec) {
			continue
		}
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue
		}
		if row.Attributes == nil {
			row.Attributes = map[string]any{}
		}
		if numberValue.MatchString(v) {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				row.Attributes[name] = f
				continue
			}
		}
		row.Attributes[name] = v
	}
	status := strings.ToLower(c.get(rec, colStatus))
	if status == "" {
		return row, nil
	}
	cs := &store.ImportConsent{Purpose: strings.ToLower(c.get(rec, colPurpose)), Status: status,
		Source: strings.ToLower(c.get(rec, colSource)), Evidence: c.get(rec, colEvidence)}
	if cs.Purpose == "" {
		cs.Purpose = consent.Marketing
	}
	if cs.Source == "" {
		cs.Source = "import"
	}
	if cs.Evidence == "" {
		cs.Evidence = fmt.Sprintf("contacts import, line %d", line)
	}
	if len(cs.Evidence) > 2000 {
		return row, errors.New("consent_evidence is at most 2000 characters")
	}
	switch {
	case cs.Purpose != consent.Marketing && cs.Purpose != consent.Conversational:
		return row, fmt.Errorf("consent_purpose %q is not marketing or conversational", cs.Purpose)
	case cs.Status != consent.OptedIn && cs.Status != consent.OptedOut:
		return row, fmt.Errorf("consent_status %q is not opted_in or opted_out", cs.Status)
	case !slices.Contains(consent.Sources, cs.Source) || cs.Source == "keyword" || cs.Source == "carrier":
		return row, fmt.Errorf("consent_source %q is not one an import may give (import, api, agent, web_form)", cs.Source)
	}
	if at := c.get(rec, colConsentAt); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			if t, err = time.Parse("2006-01-02", at); err != nil {
				return row, fmt.Errorf("bad date in consent_at: %q (YYYY-MM-DD or RFC 3339)", at)
			}
		}
		if t.After(time.Now().Add(24 * time.Hour)) {
			return row, fmt.Errorf("consent_at %q is in the future", at)
		}
		cs.At = &t
	}
	row.Consent = cs
	return row, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// mergeDuplicate folds row into an earlier row of the batch with the same
// phones and loyalty ID (the same person listed twice): its non-empty
// values win. It reports whether it did.
func mergeDuplicate(batch []store.ImportRow, dups map[string]int, row store.ImportRow) bool {
	i, ok := dups[identityKey(row)]
	if !ok {
		return false
	}
	b := &batch[i]
	if row.Name != "" {
		b.Name = row.Name
	}
	if row.Timezone != "" {
		b.Timezone = row.Timezone
	}
	for k, v := range row.Attributes {
		if b.Attributes == nil {
			b.Attributes = map[string]any{}
		}
		b.Attributes[k] = v
	}
	if row.Consent != nil {
		b.Consent = row.Consent
	}
	b.Line = row.Line
	return true
}

// identityKey names who a row is: its loyalty ID and its phones.
func identityKey(row store.ImportRow) string {
	ps := slices.Clone(row.Phones)
	slices.Sort(ps)
	return row.LoyaltyID + "|" + strings.Join(ps, ",")
}

// RunImport imports the spooled file f into brand b as import id, recording
// its progress (bytes read of the file's size, rows, the rows skipped) for
// the console's progress bar and the API, and its end; f is closed and
// removed. It is meant to run on its own goroutine: a panic is recorded as
// the import's failure rather than taking the process down.
func (s *Service) RunImport(ctx context.Context, log *slog.Logger, id int64, b store.Brand, f *os.File) {
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	defer func() {
		if v := recover(); v != nil {
			log.Error("contacts import panicked", "import_id", id, "panic", v)
			_ = s.st.FinishImport(ctx, id, fmt.Sprint("internal error: ", v))
		}
	}()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	if err := s.st.ImportProgress(ctx, id, store.ImportCounts{Size: size}, nil); err != nil {
		log.Warn("contacts import: could not record its size", "import_id", id, "err", err)
	}
	// At most MaxRunningImports of a process's uploads run at once; the
	// others wait their turn (their progress stays at 0 rows until then).
	// Each holds its sessions' connections for its whole run, and uploads
	// without a bound could take every connection of the server's pool.
	runningImports <- struct{}{}
	defer func() { <-runningImports }()
	_, err := s.Import(ctx, b, f, func(p ImportProgress, skipped []store.ImportError) error {
		return s.st.ImportProgress(ctx, id, store.ImportCounts{Rows: p.Rows, Imported: p.Imported, Created: p.Created,
			Skipped: p.Skipped, Bytes: p.Bytes, Size: size}, skipped)
	})
	failure := ""
	if err != nil {
		failure = err.Error()
		log.Warn("contacts import failed", "import_id", id, "err", err)
	}
	if err := s.st.FinishImport(ctx, id, failure); err != nil {
		log.Error("contacts import: could not record its end", "import_id", id, "err", err)
	}
}
