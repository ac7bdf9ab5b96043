package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
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

// ImportBatch upserts a batch of rows in one transaction, set-based: the
// rows are copied into a staging table, each is matched against the
// contacts its phones and loyalty ID name, and the plain cases — nobody
// known (a new contact), or exactly one contact that may take the row
// (fields written, phones added, a loyalty ID adopted) — are written with a
// handful of statements. Each row's phones and loyalty ID are locked first
// with the same advisory locks the inbound path and the identity upsert
// take, so no text creates a second contact for a phone meanwhile. A value
// already stored is not written again and a consent state already current
// is not recorded again, so importing the same file twice changes nothing.
// An opt-in never lifts an opt-out the customer texted (STOP) or the
// carrier reported, whatever source the file names: that phone's entry is
// refused with the reason.
func (s *Store) ImportBatch(ctx context.Context, brandID int64, rows []ImportRow) (ImportBatchResult, error) {
	var res ImportBatchResult
	if len(rows) == 0 {
		return res, nil
	}
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.Phones...)
		if r.LoyaltyID != "" {
			keys = append(keys, "loyalty:"+r.LoyaltyID)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		res = ImportBatchResult{}
		if _, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 7))) FROM unnest($1::text[]) k`, keys); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_rows (
				idx int PRIMARY KEY, line bigint, phones text[], loyalty_id text, name text, timezone text, attrs jsonb,
				c_purpose text, c_status text, c_source text, c_evidence text, c_at timestamptz,
				kind text, contact_id bigint) ON COMMIT DROP`); err != nil {
			return err
		}
		src := make([][]any, len(rows))
		for i, r := range rows {
			attrs, err := json.Marshal(r.Attributes)
			if err != nil {
				return err
			}
			if r.Attributes == nil {
				attrs = []byte(`{}`)
			}
			row := []any{i, r.Line, r.Phones, nullIf(r.LoyaltyID), r.Name, r.Timezone, string(attrs), nil, nil, nil, nil, nil}
			if c := r.Consent; c != nil {
				row[7], row[8], row[9], row[10], row[11] = c.Purpose, c.Status, c.Source, c.Evidence, c.At
			}
			src[i] = row
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, []string{"idx", "line", "phones", "loyalty_id", "name", "timezone", "attrs",
			"c_purpose", "c_status", "c_source", "c_evidence", "c_at"}, pgx.CopyFromRows(src)); err != nil {
			return err
		}
		// Classify: a row sharing a phone or loyalty ID with another row of
		// the batch, or naming several contacts, or one contact that holds
		// another loyalty ID, goes to the identity rules one by one.
		if _, err := tx.Exec(ctx, `
			WITH keyed AS (
				SELECT idx, unnest(phones) AS k FROM import_rows
				UNION ALL SELECT idx, 'loyalty:' || loyalty_id FROM import_rows WHERE loyalty_id IS NOT NULL),
			shared AS (SELECT DISTINCT a.idx FROM keyed a JOIN keyed b ON a.k = b.k AND a.idx <> b.idx),
			matched AS (
				SELECT r.idx, array_agg(DISTINCT m.id) AS ids FROM import_rows r
				CROSS JOIN LATERAL (
					SELECT p.contact_id AS id FROM contact_phones p WHERE p.phone = ANY(r.phones)
					UNION SELECT c.id FROM contacts c WHERE r.loyalty_id IS NOT NULL AND c.loyalty_id = r.loyalty_id AND c.merged_into IS NULL) m
				GROUP BY r.idx)
			UPDATE import_rows r SET
				kind = CASE
					WHEN r.idx IN (SELECT idx FROM shared) THEN 'complex'
					WHEN m.ids IS NULL THEN 'new'
					WHEN cardinality(m.ids) = 1 AND (r.loyalty_id IS NULL OR c.loyalty_id IS NULL OR c.loyalty_id = r.loyalty_id)
						AND c.merged_into IS NULL THEN 'update'
					ELSE 'complex' END,
				contact_id = CASE WHEN cardinality(m.ids) = 1 THEN m.ids[1] END
			FROM import_rows r2
			LEFT JOIN matched m ON m.idx = r2.idx
			LEFT JOIN contacts c ON c.id = m.ids[1]
			WHERE r.idx = r2.idx`); err != nil {
			return err
		}
		// Two rows of the batch for one existing contact (different phones of
		// theirs) go one by one too: a set-based update would keep only one.
		if _, err := tx.Exec(ctx, `UPDATE import_rows SET kind = 'complex' WHERE kind = 'update' AND contact_id IN (
				SELECT contact_id FROM import_rows WHERE kind = 'update' GROUP BY contact_id HAVING count(*) > 1)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE import_rows SET contact_id = nextval(pg_get_serial_sequence('contacts', 'id')) WHERE kind = 'new'`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO contacts (id, loyalty_id, name, attributes, timezone)
			SELECT contact_id, loyalty_id, name, attrs, timezone FROM import_rows WHERE kind = 'new' ORDER BY idx`)
		if err != nil {
			return err
		}
		res.Created = int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, `INSERT INTO contact_phones (phone, contact_id)
			SELECT DISTINCT p, r.contact_id FROM import_rows r, unnest(r.phones) p WHERE r.kind IN ('new', 'update')
			ON CONFLICT (phone) DO NOTHING`); err != nil {
			return err
		}
		tag, err = tx.Exec(ctx, `UPDATE contacts c SET
				name = CASE WHEN r.name <> '' THEN r.name ELSE c.name END,
				timezone = CASE WHEN r.timezone <> '' THEN r.timezone ELSE c.timezone END,
				attributes = c.attributes || r.attrs,
				loyalty_id = coalesce(c.loyalty_id, r.loyalty_id),
				updated_at = now()
			FROM import_rows r
			WHERE r.kind = 'update' AND c.id = r.contact_id
			  AND ((r.name <> '' AND r.name <> c.name) OR (r.timezone <> '' AND r.timezone <> c.timezone)
				OR NOT (c.attributes @> r.attrs) OR (c.loyalty_id IS NULL AND r.loyalty_id IS NOT NULL))`)
		if err != nil {
			return err
		}
		res.Updated = int(tag.RowsAffected())
		// Consent, per phone: recorded when it changes the phone's state,
		// refused when it would lift an opt-out the customer texted.
		rows, err := tx.Query(ctx, `
			WITH c AS (
				SELECT r.line, p AS phone, r.c_purpose AS purpose, r.c_status AS status, r.c_source AS source, r.c_evidence AS evidence, r.c_at AS at
				FROM import_rows r, unnest(r.phones) p WHERE r.kind IN ('new', 'update') AND r.c_status IS NOT NULL),
			judged AS (
				SELECT c.*,
					(SELECT ce.status FROM consent_events ce WHERE ce.brand_id = $1 AND ce.phone = c.phone AND ce.purpose = c.purpose
						ORDER BY ce.id DESC LIMIT 1) AS current,
					c.status = 'opted_in' AND coalesce((SELECT max(ce.id) FROM consent_events ce
						WHERE ce.brand_id = $1 AND ce.phone = c.phone AND ce.purpose = c.purpose AND ce.status = 'opted_out'
						AND ce.source IN ('keyword', 'carrier')), 0) > coalesce((SELECT max(ce.id) FROM consent_events ce
						WHERE ce.brand_id = $1 AND ce.phone = c.phone AND ce.purpose = c.purpose AND ce.status = 'opted_in'), 0) AS refused
				FROM c),
			ins AS (
				INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, created_at)
				SELECT $1, phone, purpose, status, source, evidence, coalesce(at, now()) FROM judged
				WHERE NOT refused AND current IS DISTINCT FROM status ORDER BY line, phone)
			SELECT line, phone, purpose FROM judged WHERE refused ORDER BY line, phone`, brandID)
		if err != nil {
			return err
		}
		var line int64
		var phone, purpose string
		if _, err := pgx.ForEachRow(rows, []any{&line, &phone, &purpose}, func() error {
			res.Errors = append(res.Errors, ImportError{Line: line, Reason: fmt.Sprintf(
				"%s consent for %s not recorded: the customer opted out by text (or the carrier reported it), and only they can opt back in", purpose, phone)})
			return nil
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT idx FROM import_rows WHERE kind = 'complex' ORDER BY idx`)
		if err != nil {
			return err
		}
		res.Complex, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	})
	if err != nil {
		return ImportBatchResult{}, fmt.Errorf("store: import batch: %w", err)
	}
	return res, nil
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
	CreatedAt  time.Time
	FinishedAt *time.Time
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
func (s *Store) ImportProgress(ctx context.Context, id, rowsRead, imported, created, skipped int64, errs []ImportError) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE contact_imports SET rows_read = $2, imported = $3, created = $4, skipped = $5, updated_at = now()
			WHERE id = $1`, id, rowsRead, imported, created, skipped); err != nil {
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
			i.failure, i.created_by, i.created_at, i.finished_at
		FROM contact_imports i JOIN brands b ON b.id = i.brand_id WHERE i.id = $1`, id).Scan(&m.ID, &m.BrandID, &m.BrandSlug, &m.Status,
		&m.Filename, &m.RowsRead, &m.Imported, &m.Created, &m.Skipped, &m.Failure, &m.CreatedBy, &m.CreatedAt, &m.FinishedAt)
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
