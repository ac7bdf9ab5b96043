package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/hibiken/asynq"

	"github.com/parleyhq/parley/internal/config"
)

// Queue names and their priorities: people waiting for an answer first, then
// one-to-one proactive texts, then campaigns.
var queues = map[string]int{"replies": 6, "proactive": 3, "bulk": 1}

// Run serves HTTP on ln and, when worker is true, runs the queue worker in the
// same process, until ctx is done.
func (a *App) Run(ctx context.Context, ln net.Listener, worker bool) error {
	if !worker {
		return a.ListenAndServe(ctx, ln)
	}
	w, err := newWorker(a.Cfg, a.Log)
	if err != nil {
		return err
	}
	if err := w.Start(asynq.NewServeMux()); err != nil {
		return fmt.Errorf("app: start worker: %w", err)
	}
	defer w.Shutdown()
	return a.ListenAndServe(ctx, ln)
}

// RunWorker runs the queue worker alone until ctx is done.
func RunWorker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	w, err := newWorker(cfg, log)
	if err != nil {
		return err
	}
	if err := w.Start(asynq.NewServeMux()); err != nil {
		return fmt.Errorf("app: start worker: %w", err)
	}
	log.Info("worker running", "queues", queues)
	<-ctx.Done()
	w.Shutdown()
	return nil
}

func newWorker(cfg config.Config, log *slog.Logger) (*asynq.Server, error) {
	ropt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return asynq.NewServer(ropt, asynq.Config{
		Concurrency: 20,
		Queues:      queues,
		Logger:      asynqLogger{log},
	}), nil
}

type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
