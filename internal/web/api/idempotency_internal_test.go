package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/store/storetest"
)

// Handlers that fail in ways the real routes cannot be made to on purpose (a
// panic, an error before any answer) release the key too, and one that
// answers keeps the answer even if the client went away.
func TestIdempotentReleasesOnPanicAndError(t *testing.T) {
	t.Parallel()
	st, _ := storetest.New(t)
	ctx := context.Background()
	k, err := st.CreateAPIKey(ctx, "test", "pk_internal_0123456789")
	if err != nil {
		t.Fatal(err)
	}
	h := &Handlers{st: st, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = c.String(http.StatusInternalServerError, "panic")
				}
			}()
			c.Set(ctxAPIKeyID, k.ID)
			return next(c)
		}
	})
	runs := 0
	e.POST("/panic", func(c echo.Context) error {
		runs++
		_ = c.String(http.StatusCreated, "half an answer")
		panic("handler bug")
	}, h.idempotent)
	e.POST("/error", func(c echo.Context) error { runs++; return errors.New("no answer") }, h.idempotent)
	cancelled, cancel := context.WithCancel(ctx)
	e.POST("/gone", func(c echo.Context) error {
		runs++
		cancel() // the client leaves while the handler answers
		return c.String(http.StatusCreated, "made")
	}, h.idempotent)

	do := func(ctx context.Context, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader("{}"))
		req.Header.Set("Idempotency-Key", "k"+path)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	rows := func() int {
		var n int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, path := range []string{"/panic", "/error"} {
		for i := range 2 {
			rec := do(ctx, path)
			if rec.Code != http.StatusInternalServerError || rec.Header().Get(replayedHeader) != "" {
				t.Fatalf("%s #%d: %d %q", path, i, rec.Code, rec.Body)
			}
			if n := rows(); n != 0 {
				t.Fatalf("%s #%d left %d idempotency rows", path, i, n)
			}
		}
	}
	if rec := do(cancelled, "/gone"); rec.Code != http.StatusCreated || rec.Body.String() != "made" {
		t.Fatalf("/gone: %d %q", rec.Code, rec.Body)
	}
	if rec := do(ctx, "/gone"); rec.Code != http.StatusCreated || rec.Body.String() != "made" || rec.Header().Get(replayedHeader) != "true" {
		t.Fatalf("/gone replay: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	if runs != 5 {
		t.Fatalf("handlers ran %d times, want 5 (2 panics, 2 errors, 1 answer)", runs)
	}
}
