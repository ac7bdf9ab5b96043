package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Trigger is a saved rule: what it reacts to and its document as given.
type Trigger struct {
	ID            int64
	BrandID       int64
	BrandSlug     string
	Name          string
	EventType     string // "" for a date rule
	DateAttribute string // a date rule's contact attribute
	Spec          json.RawMessage
	QuestionID    int64 // 0: asks nothing
	Question      *Question
	Enabled       bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Question is what a text asks.
type Question struct {
	ID           int64
	BrandID      int64
	Kind         string
	Scale        int
	Choices      []string
	Window       time.Duration
	FollowUps    map[string]string
	NoIsNegative bool
	CreatedAt    time.Time
}

const triggerCols = `t.id, t.brand_id, b.slug, t.name, t.event_type, t.date_attribute, t.spec, coalesce(t.question_id, 0), t.enabled,
	t.created_at, t.updated_at, q.id, q.kind, q.scale, q.choices, q.window_seconds, q.follow_ups, q.no_is_negative, q.created_at`

const triggerFrom = ` FROM triggers t JOIN brands b ON b.id = t.brand_id LEFT JOIN questions q ON q.id = t.question_id`

func scanTrigger(row pgx.Row) (Trigger, error) {
	var t Trigger
	var qid *int64
	var kind *string
	var scale *int
	var choices, follow []byte
	var window *int64
	var noNeg *bool
	var qAt *time.Time
	err := row.Scan(&t.ID, &t.BrandID, &t.BrandSlug, &t.Name, &t.EventType, &t.DateAttribute, &t.Spec, &t.QuestionID, &t.Enabled,
		&t.CreatedAt, &t.UpdatedAt, &qid, &kind, &scale, &choices, &window, &follow, &noNeg, &qAt)
	if err != nil {
		return t, err
	}
	if qid != nil {
		q := &Question{ID: *qid, BrandID: t.BrandID, Kind: *kind, Scale: *scale, Window: time.Duration(*window) * time.Second,
			NoIsNegative: *noNeg, CreatedAt: *qAt}
		if err := json.Unmarshal(choices, &q.Choices); err != nil {
			return t, err
		}
		if err := json.Unmarshal(follow, &q.FollowUps); err != nil {
			return t, err
		}
		t.Question = q
	}
	return t, nil
}

func collectTriggers(rows pgx.Rows) ([]Trigger, error) {
	defer rows.Close()
	var out []Trigger
	for rows.Next() {
		t, err := scanTrigger(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SaveTrigger inserts t (ID 0) or replaces the rule with t.ID, with its
// question: a rule's question is updated in place while its kind stays,
// and a new question is made when the kind changes (answers already given
// keep the question they answered). It returns the rule as stored.
func (s *Store) SaveTrigger(ctx context.Context, t Trigger) (Trigger, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var qid *int64
		if t.Question != nil {
			q := t.Question
			choices, err := json.Marshal(orEmpty(q.Choices))
			if err != nil {
				return err
			}
			follow, err := json.Marshal(orEmptyMap(q.FollowUps))
			if err != nil {
				return err
			}
			var existing int64
			if t.ID != 0 {
				err := tx.QueryRow(ctx, `SELECT q.id FROM triggers t JOIN questions q ON q.id = t.question_id
					WHERE t.id = $1 AND q.kind = $2`, t.ID, q.Kind).Scan(&existing)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
			}
			if existing != 0 {
				_, err = tx.Exec(ctx, `UPDATE questions SET scale = $2, choices = $3, window_seconds = $4, follow_ups = $5, no_is_negative = $6
					WHERE id = $1`, existing, q.Scale, choices, int64(q.Window/time.Second), follow, q.NoIsNegative)
			} else {
				err = tx.QueryRow(ctx, `INSERT INTO questions (brand_id, kind, scale, choices, window_seconds, follow_ups, no_is_negative)
					VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, t.BrandID, q.Kind, q.Scale, choices, int64(q.Window/time.Second),
					follow, q.NoIsNegative).Scan(&existing)
			}
			if err != nil {
				return err
			}
			qid = &existing
		}
		if t.ID == 0 {
			return tx.QueryRow(ctx, `INSERT INTO triggers (brand_id, name, event_type, date_attribute, spec, question_id, enabled)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, t.BrandID, t.Name, t.EventType, t.DateAttribute, t.Spec, qid, t.Enabled).Scan(&id)
		}
		tag, err := tx.Exec(ctx, `UPDATE triggers SET name = $2, event_type = $3, date_attribute = $4, spec = $5, question_id = $6,
			enabled = $7, updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, t.ID, t.Name, t.EventType, t.DateAttribute, t.Spec, qid, t.Enabled)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		id = t.ID
		return nil
	})
	if err != nil {
		return Trigger{}, fmt.Errorf("store: save trigger: %w", err)
	}
	return s.TriggerByID(ctx, id)
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func orEmptyMap(v map[string]string) map[string]string {
	if v == nil {
		return map[string]string{}
	}
	return v
}

// DeleteTrigger retires a rule: it matches nothing from now on, and its
// scheduled runs are skipped when due. Its history stays.
func (s *Store) DeleteTrigger(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE triggers SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("store: delete trigger %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: delete trigger %d: %w", id, ErrNotFound)
	}
	return nil
}

// TriggerByID returns a rule that is not deleted.
func (s *Store) TriggerByID(ctx context.Context, id int64) (Trigger, error) {
	t, err := scanTrigger(s.Pool.QueryRow(ctx, `SELECT `+triggerCols+triggerFrom+` WHERE t.id = $1 AND t.deleted_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("store: trigger %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("store: trigger %d: %w", id, err)
	}
	return t, nil
}

// Triggers lists rules newest first, below the id before (0: from the
// newest), of the brands listed (nil: all).
func (s *Store) Triggers(ctx context.Context, brandIDs []int64, before int64, limit int) ([]Trigger, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+triggerCols+triggerFrom+`
		WHERE t.deleted_at IS NULL AND t.id < $1 AND ($2::bigint[] IS NULL OR t.brand_id = ANY($2)) ORDER BY t.id DESC LIMIT $3`,
		before, brandIDs, limit)
	if err != nil {
		return nil, fmt.Errorf("store: triggers: %w", err)
	}
	out, err := collectTriggers(rows)
	if err != nil {
		return nil, fmt.Errorf("store: triggers: %w", err)
	}
	return out, nil
}

// AllTriggers returns every rule that is not deleted (enabled or not), for
// the in-memory rule book.
func (s *Store) AllTriggers(ctx context.Context) ([]Trigger, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+triggerCols+triggerFrom+` WHERE t.deleted_at IS NULL ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("store: all triggers: %w", err)
	}
	out, err := collectTriggers(rows)
	if err != nil {
		return nil, fmt.Errorf("store: all triggers: %w", err)
	}
	return out, nil
}

// TriggersVersion changes whenever a rule is saved or deleted: the rule
// book reloads when it does.
func (s *Store) TriggersVersion(ctx context.Context) (string, error) {
	var v string
	err := s.Pool.QueryRow(ctx, `SELECT count(*)::text || ':' || coalesce(max(updated_at)::text, '') FROM triggers`).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("store: triggers version: %w", err)
	}
	return v, nil
}
