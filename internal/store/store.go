// Package store holds all of Parley's SQL. Each file covers one aggregate
// (brands, contacts, conversations, messages, consent, users, API keys); the
// domain packages call these methods and never write SQL themselves.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/parleyhq/parley/migrations"
)

// ErrNotFound is returned when the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// Store is the handle the rest of Parley uses to reach Postgres.
type Store struct {
	Pool *pgxpool.Pool
	// async is a second, small pool whose sessions commit asynchronously
	// (synchronous_commit=off): only for writes whose loss in a crash is
	// recovered by reconciliation, never for anything that makes a send
	// happen at most once.
	async *pgxpool.Pool
	// RawAnalytics makes the analytics reads skip the rollups (migration
	// 00027) and read every raw row as before them: the baseline of the
	// analytics benchmark and the yardstick of the rollup tests.
	RawAnalytics atomic.Bool
}

// Open connects a pool to databaseURL and checks that Postgres answers.
func Open(ctx context.Context, databaseURL string, maxConns int32) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	acfg := cfg.Copy()
	acfg.MaxConns = max(2, cfg.MaxConns/4)
	acfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	async, err := pgxpool.NewWithConfig(ctx, acfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return &Store{Pool: pool, async: async}, nil
}

// OpenReplica connects a read-only pool to a read replica (hot standby) of
// the database, for reports that may lag the primary by the replication
// delay. Every session is read-only, so a write sent there by mistake fails
// instead of diverging.
func OpenReplica(ctx context.Context, replicaURL string, maxConns int32) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(replicaURL)
	if err != nil {
		return nil, fmt.Errorf("store: parse DATABASE_REPLICA_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect to the replica: %w", err)
	}
	return &Store{Pool: pool, async: pool}, nil
}

// Close releases the pools.
func (s *Store) Close() {
	s.Pool.Close()
	if s.async != s.Pool {
		s.async.Close()
	}
}

func (s *Store) lazy() *pgxpool.Pool { return s.async }

// Ping reports whether Postgres answers; used by /readyz.
func (s *Store) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }

// Migrate applies the embedded migrations under a Postgres advisory lock, so two
// processes starting at once (a release command and a web machine) cannot race.
// Running it again when everything is applied does nothing.
func Migrate(ctx context.Context, databaseURL string, log *slog.Logger) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer func() { _ = db.Close() }()
	return migrateDB(ctx, db, log)
}

func migrateDB(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if log != nil {
		log.Info("migrations applied", "count", len(results))
	}
	return nil
}

// IsUnavailable reports whether err means Postgres could not be reached or went
// away mid-request (as opposed to a query that Postgres refused, or a bug).
// The webhook spools a message on such errors instead of losing it.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) >= 2 && pgErr.Code[:2] == "08": // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", pgErr.Code == "53300":
			return true // admin shutdown, crash shutdown, cannot connect now, too many connections
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), pgconn.SafeToRetry(err):
		return true
	}
	// pgx reports a connection it had to drop as "conn closed".
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// IsConflict reports an error that a retry of the same transaction may not
// meet again: a deadlock, a serialization failure, or a unique violation from
// a concurrent insert of the same row.
func IsConflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001" || pgErr.Code == "23505")
}

// isUniqueViolation reports a unique-constraint error.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}

// WithJobLock runs fn only if this process gets the session advisory lock key,
// so a periodic job (relay, reconciler) runs in exactly one instance at a
// time however many processes there are. ran is false when another holds it.
func (s *Store) WithJobLock(ctx context.Context, key int64, fn func(context.Context) error) (ran bool, err error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("store: job lock %d: %w", key, err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		return false, fmt.Errorf("store: job lock %d: %w", key, err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); uerr != nil {
			_ = conn.Conn().Close(context.Background()) // closing the session releases the lock
		}
	}()
	return true, fn(ctx)
}
