package download_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/metrics"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/web/download"
)

type routes func(e *echo.Echo)

func (r routes) Register(e *echo.Echo) { r(e) }

// Through the real server (its panic recovery included): a download that
// fails before its first byte can still be answered with an error, one
// that fails after it is broken off, so the client gets an error rather
// than a short file that looks complete, and one that ends well is whole,
// with its headers.
func TestDownloadStartsLateAndBreaksOff(t *testing.T) {
	t.Parallel()
	e := web.New(slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New(), web.Health{Postgres: func(context.Context) error { return nil }},
		web.Options{}, routes(func(e *echo.Echo) {
			e.GET("/file", func(c echo.Context) error {
				dw := download.New(c.Response(), "text/csv; charset=utf-8", download.Filename("contacts", "demo air/é", time.Date(2025, 3, 1, 23, 0, 0, 0, time.FixedZone("", -5*3600))))
				if c.QueryParam("fail") == "early" {
					if dw.Started() {
						t.Error("started before anything was written")
					}
					return c.String(http.StatusInternalServerError, "failed early\n")
				}
				for i := range 1000 {
					if _, err := io.WriteString(dw, strings.Repeat("x", 99)+"\n"); err != nil {
						return err
					}
					if i%100 == 99 {
						if err := dw.Flush(); err != nil {
							return err
						}
					}
					if i == 500 && c.QueryParam("fail") == "late" {
						if !dw.Started() {
							t.Error("not started after 500 lines")
						}
						download.Abort()
					}
				}
				return dw.Flush()
			})
		}))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	get := func(q string) (*http.Response, []byte, error) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/file" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, body, err
	}
	resp, body, err := get("")
	if err != nil || resp.StatusCode != http.StatusOK || len(body) != 100000 {
		t.Fatalf("whole: %d, %d bytes, %v", resp.StatusCode, len(body), err)
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		cd != `attachment; filename="contacts-demo_air__-20250302.csv"` {
		t.Errorf("headers %q, %q", ct, cd)
	}
	if resp, body, err := get("?fail=early"); err != nil || resp.StatusCode != http.StatusInternalServerError || string(body) != "failed early\n" {
		t.Errorf("early failure: %d %q %v", resp.StatusCode, body, err)
	}
	resp, body, err = get("?fail=late")
	if resp.StatusCode != http.StatusOK || !errors.Is(err, io.ErrUnexpectedEOF) || len(body) >= 100000 {
		t.Errorf("late failure: %d, %d bytes, %v; want the body cut with an unexpected EOF", resp.StatusCode, len(body), err)
	}
}
