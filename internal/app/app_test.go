package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/logging"
	"github.com/parleyhq/parley/internal/store/storetest"
	"github.com/parleyhq/parley/internal/web"
)

type slowRoute struct{ started chan struct{} }

func (s slowRoute) Register(e *echo.Echo) {
	e.GET("/slow", func(c echo.Context) error {
		close(s.started)
		time.Sleep(700 * time.Millisecond)
		return c.String(http.StatusOK, "finished")
	})
}

// A shutdown signal lets requests in flight finish before Run returns, and
// new connections are refused after it.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	_, dbURL := storetest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{DatabaseURL: dbURL, RedisURL: apptest.RedisURL(), Addr: ln.Addr().String(),
		PublicURL: "http://" + ln.Addr().String(), TwilioAccountSID: apptest.AccountSID, TwilioAuthToken: apptest.AuthToken,
		SpoolDir: t.TempDir()}
	slow := slowRoute{started: make(chan struct{})}
	a, err := app.Build(context.Background(), cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{Extra: []web.Registrar{slow}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln, true) }()

	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(cfg.PublicURL + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-slow.started
	cancel() // what SIGTERM does in main
	r := <-res
	if r.err != nil || r.code != 200 || r.body != "finished" {
		t.Fatalf("request in flight during shutdown: %+v", r)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after shutdown")
	}
	if resp, err := http.Get(cfg.PublicURL + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("the server still accepts connections after shutdown")
	}
}
