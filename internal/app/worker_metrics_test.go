package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/logging"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// A worker-only process with PARLEY_METRICS_ADDR serves its own /metrics
// (its queues, its pool) and health there, and stops with the worker.
func TestWorkerServesMetrics(t *testing.T) {
	t.Parallel()
	_, dbURL := storetest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cfg := config.Config{DatabaseURL: dbURL, RedisURL: apptest.RedisURL(), TwilioAccountSID: apptest.AccountSID,
		TwilioAuthToken: apptest.AuthToken, MetricsAddr: addr}
	if err := cfg.Validate(config.Needs{Database: true, Redis: true, Twilio: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.RunWorker(ctx, cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{QueueNamespace: "wm" + t.Name()})
	}()
	var body string
	apptest.WaitFor(t, 30*time.Second, "the worker's /metrics", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	})
	for _, want := range []string{"parley_queue_tasks", "parley_pg_pool_", "parley_sse_clients 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("the worker's /metrics has no %s", want)
		}
	}
	if code, b := apptest.Get(t, "http://"+addr+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunWorker: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop")
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the metrics listener still answers after the worker stopped")
	}
}
