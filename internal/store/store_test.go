package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("inbound: unknown message status"), false},
		{fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "23505"}), false},
		{fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "57P01"}), true},
		{fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "08006"}), true},
		{fmt.Errorf("store: x: %w", context.DeadlineExceeded), true},
	}
	for _, tt := range tests {
		if got := IsUnavailable(tt.err); got != tt.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	// A real refused connection.
	st, err := Open(context.Background(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", 1)
	if err == nil {
		err = st.Ping(context.Background())
		st.Close()
	}
	if !IsUnavailable(err) {
		t.Fatalf("refused connection %v not seen as unavailable", err)
	}
}
