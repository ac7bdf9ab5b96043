package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID        int64
	At        time.Time
	ActorType string // user, api_key, anonymous, system
	Actor     string
	ActorID   *int64
	Action    string
	Target    string
	BrandID   *int64
	Before    json.RawMessage // nil when the action has no before/after
	After     json.RawMessage
	Detail    json.RawMessage
	Status    int
	IP        string
	RequestID string
}

// AuditFilter narrows the audit log: every set field must match.
type AuditFilter struct {
	Actor, Action string
	Since, Until  *time.Time
	// Brands, when not AllBrands, limits the log to entries of those brands
	// (an entry of no brand is seen only with every brand).
	AllBrands bool
	Brands    []int64
}

// InsertAudit appends one entry; the table refuses changes and deletions.
func (s *Store) InsertAudit(ctx context.Context, e AuditEntry) error {
	detail := e.Detail
	if len(detail) == 0 {
		detail = json.RawMessage(`{}`)
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO audit_log (actor_type, actor, actor_id, action, target, brand_id, before, after, detail,
			status, ip, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.ActorType, e.Actor, e.ActorID, e.Action, e.Target, e.BrandID, nullJSON(e.Before), nullJSON(e.After), detail,
		e.Status, e.IP, e.RequestID)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}

// AuditEntries lists the log newest first: entries older than before (0:
// from the newest), at most limit.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter, before int64, limit int) ([]AuditEntry, error) {
	var untilArg, sinceArg any
	if f.Since != nil {
		sinceArg = *f.Since
	}
	if f.Until != nil {
		untilArg = *f.Until
	}
	rows, err := s.Pool.Query(ctx, `SELECT id, at, actor_type, actor, actor_id, action, target, brand_id, before, after, detail,
			status, ip, request_id
		FROM audit_log
		WHERE ($1 = 0 OR id < $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3)
		  AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
		  AND ($6 OR brand_id = ANY($7::bigint[]))
		ORDER BY id DESC LIMIT $8`, before, f.Actor, f.Action, sinceArg, untilArg, f.AllBrands, f.Brands, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit entries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		var before, after, detail []byte
		err := r.Scan(&e.ID, &e.At, &e.ActorType, &e.Actor, &e.ActorID, &e.Action, &e.Target, &e.BrandID, &before, &after, &detail,
			&e.Status, &e.IP, &e.RequestID)
		e.Before, e.After, e.Detail = before, after, detail
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit entries: %w", err)
	}
	return out, nil
}

// PruneAudit deletes entries older than cutoff, the one deletion the
// table's trigger allows (for this transaction only). It returns how many.
func (s *Store) PruneAudit(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('parley.audit_prune', $1, true)`, cutoff.UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM audit_log WHERE at < $1`, cutoff)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune audit: %w", err)
	}
	return n, nil
}
