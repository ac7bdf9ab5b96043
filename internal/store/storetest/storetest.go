// Package storetest gives each test its own freshly migrated Postgres database,
// cloned from a template that is migrated once per migration set, so tests can
// run in parallel against the real server without seeing each other's rows.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/migrations"
)

// AdminURL is the server the test databases are created on.
func AdminURL() string {
	if v := os.Getenv("PARLEY_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// NewDB creates a migrated database for t, dropped when t ends, and returns its URL.
func NewDB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmpl, err := template(ctx)
	if err != nil {
		t.Fatalf("storetest: template database: %v", err)
	}
	name := "parley_t_" + randHex(8)
	if err := withAdmin(ctx, func(c *pgx.Conn) error {
		for attempt := 0; ; attempt++ {
			_, err := c.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl))
			var pgErr *pgconn.PgError
			// 55006: the template is briefly in use by another clone; try again.
			if err != nil && errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 100 {
				time.Sleep(time.Duration(20+attempt*5) * time.Millisecond)
				continue
			}
			return err
		}
	}); err != nil {
		t.Fatalf("storetest: create %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = withAdmin(ctx, func(c *pgx.Conn) error {
			_, err := c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
			return err
		})
	})
	return dbURL(name)
}

// New returns a Store on a fresh database for t, closed when t ends.
func New(t testing.TB) (*store.Store, string) {
	t.Helper()
	u := NewDB(t)
	st, err := store.Open(context.Background(), u, 20)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(st.Close)
	return st, u
}

func dbURL(name string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// template makes sure a migrated template for the current migration files exists
// and returns its name. An advisory lock keeps concurrent test binaries from
// building it twice.
func template(ctx context.Context) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	name := "parley_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	err = withAdmin(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "SELECT pg_advisory_lock(8675309)"); err != nil {
			return err
		}
		defer c.Exec(context.Background(), "SELECT pg_advisory_unlock(8675309)") //nolint:errcheck
		var ready bool
		err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&ready)
		if err != nil || ready {
			return err
		}
		if _, err := c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", name)); err != nil {
			return err
		}
		if err := store.Migrate(ctx, dbURL(name), nil); err != nil {
			return err
		}
		_, err = c.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s WITH IS_TEMPLATE true", name))
		return err
	})
	return name, err
}

func withAdmin(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return fmt.Errorf("connect to %s (is PostgreSQL running? `make test` starts it): %w", AdminURL(), err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	return fn(c)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
