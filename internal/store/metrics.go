package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CampaignStates counts campaigns by state (the metrics' scrape).
func (s *Store) CampaignStates(ctx context.Context) (map[string]int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT state, count(*) FROM campaigns GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: campaign states: %w", err)
	}
	out := map[string]int{}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error { out[state] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("store: campaign states: %w", err)
	}
	return out, nil
}
