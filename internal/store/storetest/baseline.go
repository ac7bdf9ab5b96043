package storetest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Baseline is the yardstick the inbound benchmark compares Parley against: one
// bare INSERT … ON CONFLICT DO NOTHING per message into a table with only a
// unique SID, no identity, no conversation, no consent.
type Baseline struct{ pool *pgxpool.Pool }

// NewBaseline creates the baseline table in the database at url.
func NewBaseline(ctx context.Context, url string) (*Baseline, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS baseline_messages (
		sid text PRIMARY KEY, from_number text NOT NULL, to_number text NOT NULL, body text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		pool.Close()
		return nil, fmt.Errorf("baseline: create table: %w", err)
	}
	return &Baseline{pool: pool}, nil
}

// Insert stores one message, ignoring a repeated SID.
func (b *Baseline) Insert(ctx context.Context, sid, from, to, body string) error {
	_, err := b.pool.Exec(ctx, `INSERT INTO baseline_messages (sid, from_number, to_number, body)
		VALUES ($1, $2, $3, $4) ON CONFLICT (sid) DO NOTHING`, sid, from, to, body)
	return err
}

// Count returns how many rows the baseline stored.
func (b *Baseline) Count(ctx context.Context) (int, error) {
	var n int
	err := b.pool.QueryRow(ctx, `SELECT count(*) FROM baseline_messages`).Scan(&n)
	return n, err
}

// Close releases the pool.
func (b *Baseline) Close() { b.pool.Close() }
