package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ImportRow is one checked row of a contacts import.
type ImportRow struct {
	Line       int64
	Phones     []string // E.164, distinct, at least one
	LoyaltyID  string
	Name       string
	Timezone   string
	Attributes map[string]any
	Consent    *ImportConsent
}

// ImportConsent is the consent a row records for each of its phones.
type ImportConsent struct {
	Purpose, Status, Source, Evidence string
	At                                *time.Time
}

// ImportError is a row an import skipped (or partly skipped), and why.
type ImportError struct {
	Line   int64
	Reason string
}

// ImportBatchResult is what one batch did.
type ImportBatchResult struct {
	Created, Updated int
	// Complex are the indexes of rows the set-based path leaves to the
	// identity rules one by one: a row whose phones and loyalty ID point at
	// more than one contact (a merge, a recycled number), or that shares a
	// phone or loyalty ID with another row of the batch.
	Complex []int
	Errors  []ImportError
}

// ImportWriteSlots is how many import batches are written at once on the
// database, whatever the number of imports and processes. Each batch holds
// an advisory lock per phone and loyalty ID until it commits, and Postgres
// keeps every such lock in one shared table, sized by its settings
// (max_locks_per_transaction × (max_connections + max_prepared_transactions):
// 6,400 on a default server). Three imports at once, each with two batches
// of 4,200 keys, filled it ("out of shared memory") and failed. With the
// slots, imports running together take turns, and between them hold at
// most half of that table (see ImportKeyBudget). For a moment it can be up
// to all of it, while a committed batch's locks are still being released
// and the next batch, which already has that slot, takes its own. Postgres
// has room beyond the table's size: a default server granted 12,000 to a
// single transaction.
const ImportWriteSlots = 2

// maxImportBatchKeys caps a batch's keys on servers with a larger lock
// table, at about ImportBatch rows' worth: 2,000 rows, each with a phone or
// two and a loyalty ID. On a default server a batch is half that (about
// 800 such rows), and a million rows import 10% slower than at 2,000.
const maxImportBatchKeys = 4400

// ImportKeyBudget is how many phones and loyalty IDs one import batch may
// lock on this server: half of its lock table, shared among the write
// slots (1,600 on a default server), at most maxImportBatchKeys.
func (s *Store) ImportKeyBudget(ctx context.Context) (int, error) {
	var table int
	if err := s.Pool.QueryRow(ctx, `SELECT current_setting('max_locks_per_transaction')::int
		* (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int)`).Scan(&table); err != nil {
		return 0, fmt.Errorf("store: import key budget: %w", err)
	}
	return max(min(table/2/ImportWriteSlots, maxImportBatchKeys), 100), nil
}

// MaxConns is the most connections the store's pool opens.
func (s *Store) MaxConns() int { return int(s.Pool.Config().MaxConns) }

// ImportSession is one import's connection: an import's batches are
// written one after the other through it (an import may hold several).
type ImportSession struct {
	conn    *pgxpool.Conn
	slot    int
	maxKeys int
}

// NewImportSession takes a connection for an import whose batches are
// written in write slot slot (mod ImportWriteSlots; an import gives its
// sessions different slots), each locking at most maxKeys phones and
// loyalty IDs (ImportKeyBudget). Close gives it back.
func (s *Store) NewImportSession(ctx context.Context, slot, maxKeys int) (*ImportSession, error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: import session: %w", err)
	}
	return &ImportSession{conn: conn, slot: slot % ImportWriteSlots, maxKeys: maxKeys}, nil
}

// Close gives the connection back.
func (x *ImportSession) Close() {
	x.conn.Release()
}

// ImportBatch upserts a batch of rows in one transaction, set-based: the
// rows are matched against the contacts their phones and loyalty IDs name
// (one query over arrays of them), and the plain cases
// — nobody known (a new contact), or exactly one contact that may take the
// row (fields written, phones added, a loyalty ID adopted) — are written
// with a handful of statements: COPY for what cannot clash (new contacts
// and their phones, consent entries), set-based upserts from arrays for
// the rest. Each row's phones and loyalty ID are locked first
// with the same advisory locks the inbound path and the identity upsert
// take, so no text creates a second contact for a phone meanwhile, and a
// phone found unknown stays unknown until the batch commits. A value
// already stored is not written again and a consent state already current
// is not recorded again, so importing the same file twice changes nothing.
// An opt-in never lifts an opt-out the customer texted (STOP) or the
// carrier reported, whatever source the file names: that phone's entry is
// refused with the reason.
func (x *ImportSession) ImportBatch(ctx context.Context, brandID int64, rows []ImportRow) (ImportBatchResult, error) {
	var res ImportBatchResult
	if len(rows) == 0 {
		return res, nil
	}
	// Rows sharing a phone or loyalty ID with another row of the batch go to
	// the identity rules one by one.
	owner := map[string]int{}
	shared := make([]bool, len(rows))
	var keys []string
	for i, r := range rows {
		ks := r.Phones
		if r.LoyaltyID != "" {
			ks = append(slices.Clip(ks), "loyalty:"+r.LoyaltyID)
		}
		for _, k := range ks {
			if j, ok := owner[k]; ok && j != i {
				shared[i], shared[j] = true, true
				continue
			}
			owner[k] = i
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) > x.maxKeys {
		return res, fmt.Errorf("store: import batch: %d phones and loyalty IDs, at most %d", len(keys), x.maxKeys)
	}
	err := pgx.BeginFunc(ctx, x.conn, func(tx pgx.Tx) error {
		res = ImportBatchResult{}
		attrs := make([]string, len(rows))
		var phIdx, lyIdx []int32
		var phs, lys []string
		for i, r := range rows {
			a := []byte(`{}`)
			if r.Attributes != nil {
				var err error
				if a, err = json.Marshal(r.Attributes); err != nil {
					return err
				}
			}
			attrs[i] = string(a)
			for _, ph := range r.Phones {
				phIdx, phs = append(phIdx, int32(i)), append(phs, ph) // #nosec G115 -- i < len(rows), a batch
			}
			if r.LoyaltyID != "" {
				lyIdx, lys = append(lyIdx, int32(i)), append(lys, r.LoyaltyID) // #nosec G115 -- as above
			}
		}
		// The write slot first, then the batch's keys (sorted): a batch
		// waiting for its slot holds nothing anybody else waits for.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('import-slot:' || $1::int, 7))`, x.slot); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 7))) FROM unnest($1::text[]) k`, keys); err != nil {
			return err
		}
		// Who each row names: the contacts holding its phones, and the live
		// contact with its loyalty ID.
		mrows, err := tx.Query(ctx, `
			SELECT x.idx, p.id, p.loyalty, p.merged FROM unnest($1::int[], $2::text[]) x(idx, ph),
				LATERAL (SELECT c.id, coalesce(c.loyalty_id, '') AS loyalty, c.merged_into IS NOT NULL AS merged
					FROM contact_phones cp JOIN contacts c ON c.id = cp.contact_id WHERE cp.phone = x.ph LIMIT 1) p
			UNION
			SELECT x.idx, l.id, l.loyalty_id, false FROM unnest($3::int[], $4::text[]) x(idx, loyalty),
				LATERAL (SELECT id, loyalty_id FROM contacts WHERE loyalty_id = x.loyalty AND merged_into IS NULL LIMIT 1) l`,
			phIdx, phs, lyIdx, lys)
		if err != nil {
			return err
		}
		type match struct {
			ids     []int64
			loyalty string
			merged  bool
		}
		matched := map[int]*match{}
		var idx int
		var id int64
		var loyalty string
		var merged bool
		if _, err := pgx.ForEachRow(mrows, []any{&idx, &id, &loyalty, &merged}, func() error {
			m := matched[idx]
			if m == nil {
				m = &match{}
				matched[idx] = m
			}
			m.ids = append(m.ids, id)
			m.loyalty, m.merged = loyalty, merged
			return nil
		}); err != nil {
			return err
		}
		const (
			kindNew = iota + 1
			kindUpdate
			kindComplex
		)
		kind := make([]int, len(rows))
		contactOf := make([]int64, len(rows))
		perContact := map[int64]int{}
		nNew := 0
		for i, r := range rows {
			m := matched[i]
			switch {
			case shared[i]:
				kind[i] = kindComplex
			case m == nil:
				kind[i] = kindNew
				nNew++
			case len(m.ids) == 1 && !m.merged && (r.LoyaltyID == "" || m.loyalty == "" || m.loyalty == r.LoyaltyID):
				kind[i], contactOf[i] = kindUpdate, m.ids[0]
				perContact[m.ids[0]]++
			default:
				kind[i] = kindComplex
			}
		}
		// Two rows of the batch for one existing contact (different phones of
		// theirs) go one by one too: a set-based update would keep only one.
		for i := range rows {
			if kind[i] == kindUpdate && perContact[contactOf[i]] > 1 {
				kind[i] = kindComplex
			}
		}
		if nNew > 0 {
			// The sequence named as a constant, as the column's default
			// names it: pg_get_serial_sequence would be looked up per id.
			idRows, err := tx.Query(ctx, `SELECT nextval('contacts_id_seq') FROM generate_series(1, $1)`, nNew)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(idRows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			var cs, ps [][]any
			for i, r := range rows {
				if kind[i] != kindNew {
					continue
				}
				contactOf[i], ids = ids[0], ids[1:]
				cs = append(cs, []any{contactOf[i], nullIf(r.LoyaltyID), r.Name, attrs[i], r.Timezone})
				for _, p := range r.Phones {
					ps = append(ps, []any{p, contactOf[i]})
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"contacts"}, []string{"id", "loyalty_id", "name", "attributes", "timezone"}, pgx.CopyFromRows(cs)); err != nil {
				return err
			}
			// Nobody held these phones when they were locked, and nobody can
			// take them before the commit.
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"contact_phones"}, []string{"phone", "contact_id"}, pgx.CopyFromRows(ps)); err != nil {
				return err
			}
			res.Created = len(cs)
		}
		var upIDs []int64
		var upNames, upZones, upAttrs, upLoyalty, upPhones []string
		var upPhoneIDs []int64
		for i, r := range rows {
			if kind[i] != kindUpdate {
				continue
			}
			upIDs, upNames, upZones = append(upIDs, contactOf[i]), append(upNames, r.Name), append(upZones, r.Timezone)
			upAttrs, upLoyalty = append(upAttrs, attrs[i]), append(upLoyalty, r.LoyaltyID)
			for _, p := range r.Phones {
				upPhones, upPhoneIDs = append(upPhones, p), append(upPhoneIDs, contactOf[i])
			}
		}
		if len(upIDs) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO contact_phones (phone, contact_id)
				SELECT DISTINCT p, id FROM unnest($1::text[], $2::bigint[]) k(p, id)
				ON CONFLICT (phone) DO NOTHING`, upPhones, upPhoneIDs); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `UPDATE contacts c SET
					name = CASE WHEN r.name <> '' THEN r.name ELSE c.name END,
					timezone = CASE WHEN r.timezone <> '' THEN r.timezone ELSE c.timezone END,
					attributes = c.attributes || r.attrs,
					loyalty_id = coalesce(c.loyalty_id, r.loyalty_id),
					updated_at = now()
				FROM (SELECT id, name, timezone, attrs::jsonb AS attrs, nullif(loyalty_id, '') AS loyalty_id
					FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) u(id, name, timezone, attrs, loyalty_id)) r
				WHERE c.id = r.id
				  AND ((r.name <> '' AND r.name <> c.name) OR (r.timezone <> '' AND r.timezone <> c.timezone)
					OR NOT (c.attributes @> r.attrs) OR (c.loyalty_id IS NULL AND r.loyalty_id IS NOT NULL))`,
				upIDs, upNames, upZones, upAttrs, upLoyalty)
			if err != nil {
				return err
			}
			res.Updated = int(tag.RowsAffected())
		}
		// Consent, per phone, in the file's order: recorded when it changes
		// the phone's state, refused when it would lift an opt-out the
		// customer texted or the carrier reported.
		type entry struct {
			line  int64
			phone string
			c     *ImportConsent
		}
		var es []entry
		var phones, purposes, statuses []string
		for i, r := range rows {
			if (kind[i] != kindNew && kind[i] != kindUpdate) || r.Consent == nil {
				continue
			}
			ps := slices.Clone(r.Phones)
			slices.Sort(ps)
			for _, p := range ps {
				es = append(es, entry{r.Line, p, r.Consent})
				phones, purposes, statuses = append(phones, p), append(purposes, r.Consent.Purpose), append(statuses, r.Consent.Status)
			}
		}
		if len(es) == 0 {
			complexRows(&res, kind, kindComplex)
			return nil
		}
		jrows, err := tx.Query(ctx, `
			SELECT x.i, coalesce(cur.status, ''), coalesce(x.status = 'opted_in' AND lastk.status = 'opted_out', false)
			FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY x(phone, purpose, status, i)
			LEFT JOIN LATERAL (SELECT ce.status FROM consent_events ce WHERE ce.brand_id = $1 AND ce.phone = x.phone AND ce.purpose = x.purpose
				ORDER BY ce.id DESC LIMIT 1) cur ON true
			LEFT JOIN LATERAL (SELECT ce.status FROM consent_events ce WHERE ce.brand_id = $1 AND ce.phone = x.phone AND ce.purpose = x.purpose
				AND (ce.status = 'opted_in' OR ce.source IN ('keyword', 'carrier')) ORDER BY ce.id DESC LIMIT 1) lastk
				ON x.status = 'opted_in' AND cur.status IS NOT NULL`, brandID, phones, purposes, statuses)
		if err != nil {
			return err
		}
		var i int64
		var current string
		var refused bool
		var add [][]any
		judged := make([]bool, len(es))
		if _, err := pgx.ForEachRow(jrows, []any{&i, &current, &refused}, func() error {
			e := es[i-1]
			judged[i-1] = true
			switch {
			case refused:
				res.Errors = append(res.Errors, ImportError{Line: e.line, Reason: fmt.Sprintf(
					"%s consent for %s not recorded: the customer opted out by text (or the carrier reported it), and only they can opt back in", e.c.Purpose, e.phone)})
			case current != e.c.Status:
				at := time.Now()
				if e.c.At != nil {
					at = *e.c.At
				}
				add = append(add, []any{brandID, e.phone, e.c.Purpose, e.c.Status, e.c.Source, e.c.Evidence, at})
			}
			return nil
		}); err != nil {
			return err
		}
		if slices.Contains(judged, false) {
			return errors.New("consent judgement lost a row")
		}
		if len(add) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"consent_events"}, []string{"brand_id", "phone", "purpose", "status", "source", "evidence", "created_at"},
				pgx.CopyFromRows(add)); err != nil {
				return err
			}
		}
		complexRows(&res, kind, kindComplex)
		return nil
	})
	if err != nil {
		return ImportBatchResult{}, fmt.Errorf("store: import batch: %w", err)
	}
	return res, nil
}

// complexRows lists the rows of kind complex in res.
func complexRows(res *ImportBatchResult, kind []int, complexKind int) {
	for i, k := range kind {
		if k == complexKind {
			res.Complex = append(res.Complex, i)
		}
	}
}

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ContactImport is an import's progress as stored.
type ContactImport struct {
	ID         int64
	BrandID    int64
	BrandSlug  string
	Status     string
	Filename   string
	RowsRead   int64
	Imported   int64
	Created    int64
	Skipped    int64
	Failure    string
	CreatedBy  string
	SizeBytes  int64 // of the file, 0 while unknown
	BytesRead  int64
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// ImportCounts is an import's progress so far.
type ImportCounts struct {
	Rows, Imported, Created, Skipped int64
	Bytes, Size                      int64 // read so far, and of the whole file (0: leave the stored one)
}

// CreateImport records a starting import.
func (s *Store) CreateImport(ctx context.Context, brandID int64, filename, createdBy string) (int64, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `INSERT INTO contact_imports (brand_id, filename, created_by) VALUES ($1, $2, $3) RETURNING id`,
		brandID, filename, createdBy).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create import: %w", err)
	}
	return id, nil
}

// ImportProgress records an import's counts and the rows it skipped since
// the last call.
func (s *Store) ImportProgress(ctx context.Context, id int64, n ImportCounts, errs []ImportError) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE contact_imports SET rows_read = $2, imported = $3, created = $4, skipped = $5,
				bytes_read = $6, size_bytes = CASE WHEN $7::bigint > 0 THEN $7 ELSE size_bytes END, updated_at = now()
			WHERE id = $1`, id, n.Rows, n.Imported, n.Created, n.Skipped, n.Bytes, n.Size); err != nil {
			return err
		}
		if len(errs) == 0 {
			return nil
		}
		// One entry per line (a row's phones may each have been refused).
		var lines []int64
		var reasons []string
		for _, e := range errs {
			if n := len(lines); n > 0 && lines[n-1] == e.Line {
				reasons[n-1] += "; " + e.Reason
				continue
			}
			lines, reasons = append(lines, e.Line), append(reasons, e.Reason)
		}
		_, err := tx.Exec(ctx, `INSERT INTO contact_import_errors (import_id, line, reason)
			SELECT $1, l, r FROM unnest($2::bigint[], $3::text[]) v(l, r) ON CONFLICT (import_id, line) DO UPDATE SET reason = contact_import_errors.reason || '; ' || excluded.reason`,
			id, lines, reasons)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: import %d progress: %w", id, err)
	}
	return nil
}

// FinishImport marks an import completed, or failed with the reason.
func (s *Store) FinishImport(ctx context.Context, id int64, failure string) error {
	status := "completed"
	if failure != "" {
		status = "failed"
	}
	_, err := s.Pool.Exec(ctx, `UPDATE contact_imports SET status = $2, failure = $3, finished_at = now(), updated_at = now() WHERE id = $1`,
		id, status, failure)
	if err != nil {
		return fmt.Errorf("store: finish import %d: %w", id, err)
	}
	return nil
}

// ImportByID returns an import, or ErrNotFound.
func (s *Store) ImportByID(ctx context.Context, id int64) (ContactImport, error) {
	var m ContactImport
	err := s.Pool.QueryRow(ctx, `SELECT i.id, i.brand_id, b.slug, i.status, i.filename, i.rows_read, i.imported, i.created, i.skipped,
			i.failure, i.created_by, i.size_bytes, i.bytes_read, i.created_at, i.finished_at
		FROM contact_imports i JOIN brands b ON b.id = i.brand_id WHERE i.id = $1`, id).Scan(&m.ID, &m.BrandID, &m.BrandSlug, &m.Status,
		&m.Filename, &m.RowsRead, &m.Imported, &m.Created, &m.Skipped, &m.Failure, &m.CreatedBy, &m.SizeBytes, &m.BytesRead, &m.CreatedAt, &m.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("store: import %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: import %d: %w", id, err)
	}
	return m, nil
}

// ImportErrors lists an import's skipped rows by line after afterLine.
func (s *Store) ImportErrors(ctx context.Context, id, afterLine int64, limit int) ([]ImportError, error) {
	rows, err := s.Pool.Query(ctx, `SELECT line, reason FROM contact_import_errors WHERE import_id = $1 AND line > $2 ORDER BY line LIMIT $3`,
		id, afterLine, limit)
	if err != nil {
		return nil, fmt.Errorf("store: import %d errors: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ImportError])
	if err != nil {
		return nil, fmt.Errorf("store: import %d errors: %w", id, err)
	}
	return out, nil
}

// Imports lists the imports of the brands (nil: every brand), newest
// first, before id before (0: from the newest).
func (s *Store) Imports(ctx context.Context, brandIDs []int64, before int64, limit int) ([]ContactImport, error) {
	rows, err := s.Pool.Query(ctx, `SELECT i.id, i.brand_id, b.slug, i.status, i.filename, i.rows_read, i.imported, i.created, i.skipped,
			i.failure, i.created_by, i.size_bytes, i.bytes_read, i.created_at, i.finished_at
		FROM contact_imports i JOIN brands b ON b.id = i.brand_id
		WHERE ($1::bigint[] IS NULL OR i.brand_id = ANY($1)) AND ($2 = 0 OR i.id < $2)
		ORDER BY i.id DESC LIMIT $3`, brandIDs, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: imports: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ContactImport])
	if err != nil {
		return nil, fmt.Errorf("store: imports: %w", err)
	}
	return out, nil
}
