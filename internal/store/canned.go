package store

import (
	"context"
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
