package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CannedResponse is a saved answer agents insert into the reply box. Its body
// is a template over the contact ({{.FirstName}}); BrandID 0 means every brand.
type CannedResponse struct {
	ID        int64
	BrandID   int64
	BrandSlug string // "" for every brand
	Title     string
	Body      string
	CreatedAt time.Time
}

const cannedCols = `r.id, coalesce(r.brand_id, 0), coalesce(b.slug, ''), r.title, r.body, r.created_at`

func scanCanned(r pgx.CollectableRow) (CannedResponse, error) {
	var c CannedResponse
	err := r.Scan(&c.ID, &c.BrandID, &c.BrandSlug, &c.Title, &c.Body, &c.CreatedAt)
	return c, err
}

// CannedResponses lists the responses usable in brandID's conversations (its
// own and those for every brand), by title.
func (s *Store) CannedResponses(ctx context.Context, brandID int64) ([]CannedResponse, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+cannedCols+` FROM canned_responses r LEFT JOIN brands b ON b.id = r.brand_id
		WHERE r.brand_id IS NULL OR r.brand_id = $1 ORDER BY lower(r.title)`, brandID)
	if err != nil {
		return nil, fmt.Errorf("store: canned responses of brand %d: %w", brandID, err)
	}
	cs, err := pgx.CollectRows(rows, scanCanned)
	if err != nil {
		return nil, fmt.Errorf("store: canned responses of brand %d: %w", brandID, err)
	}
	return cs, nil
}

// ErrTitleTaken is returned when a brand (or "every brand") already has a
// canned response with the same title, case aside: agents pick them by title.
var ErrTitleTaken = errors.New("a canned response with this title already exists")

// CannedInput is a new canned response; BrandID 0 means every brand.
type CannedInput struct {
	BrandID   int64
	Title     string
	Body      string
	CreatedBy int64 // the admin who wrote it; 0 if unknown
}

// CreateCannedResponse stores a canned response. ErrTitleTaken if its title
// is used for the same brand.
func (s *Store) CreateCannedResponse(ctx context.Context, in CannedInput) (CannedResponse, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `INSERT INTO canned_responses (brand_id, title, body, created_by)
		VALUES (nullif($1, 0), $2, $3, nullif($4, 0)) RETURNING id`, in.BrandID, in.Title, in.Body, in.CreatedBy).Scan(&id)
	if isUniqueViolation(err) {
		return CannedResponse{}, fmt.Errorf("store: create canned response %q: %w", in.Title, ErrTitleTaken)
	}
	if err != nil {
		return CannedResponse{}, fmt.Errorf("store: create canned response %q: %w", in.Title, err)
	}
	return s.CannedResponseByID(ctx, id)
}

// CannedResponseByID returns one canned response, or ErrNotFound.
func (s *Store) CannedResponseByID(ctx context.Context, id int64) (CannedResponse, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+cannedCols+` FROM canned_responses r LEFT JOIN brands b ON b.id = r.brand_id
		WHERE r.id = $1`, id)
	if err != nil {
		return CannedResponse{}, fmt.Errorf("store: canned response %d: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCanned)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("store: canned response %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: canned response %d: %w", id, err)
	}
	return c, nil
}

// AllCannedResponses lists every canned response for the admin page: those
// for every brand first, then by brand and title.
func (s *Store) AllCannedResponses(ctx context.Context) ([]CannedResponse, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+cannedCols+` FROM canned_responses r LEFT JOIN brands b ON b.id = r.brand_id
		ORDER BY b.slug NULLS FIRST, lower(r.title)`)
	if err != nil {
		return nil, fmt.Errorf("store: canned responses: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanCanned)
	if err != nil {
		return nil, fmt.Errorf("store: canned responses: %w", err)
	}
	return cs, nil
}

// DeleteCannedResponse removes a canned response. ErrNotFound if there is
// no such response.
func (s *Store) DeleteCannedResponse(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM canned_responses WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete canned response %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: delete canned response %d: %w", id, ErrNotFound)
	}
	return nil
}
