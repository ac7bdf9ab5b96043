// Package app is Parley's composition root: it builds the pool, Redis, the
// services and the HTTP server from a Config, and is the only package that
// knows every piece.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/inbound"
	"github.com/parleyhq/parley/internal/metrics"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/web/api"
	"github.com/parleyhq/parley/internal/web/webhook"
)

// App is a running Parley process's parts.
type App struct {
	Cfg      config.Config
	Log      *slog.Logger
	Store    *store.Store
	Redis    *redis.Client
	Metrics  *metrics.Metrics
	Inbound  *inbound.Service
	Statuses *outbound.Statuses
	Echo     *echo.Echo
	// Extra registrars (the dev phone simulator) mounted by Build.
	extra []web.Registrar
}

// Options change how Build assembles the app.
type Options struct {
	Extra   []web.Registrar
	Inbound inbound.Options
	Now     func() time.Time
}

// Build connects to Postgres and Redis and assembles every service.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, 0)
	if err != nil {
		return nil, err
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("app: REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(ropt)
	spool, err := inbound.OpenSpool(cfg.SpoolDir)
	if err != nil {
		st.Close()
		_ = rdb.Close()
		return nil, err
	}
	m := metrics.New()
	a := &App{Cfg: cfg, Log: log, Store: st, Redis: rdb, Metrics: m}
	brands := inbound.NewBrands(st)
	if err := brands.Load(ctx, 0); err != nil {
		log.Warn("brand numbers not loaded at start; will retry on first webhook", "err", err)
	}
	a.Statuses = outbound.NewStatuses(st)
	a.Inbound = inbound.NewService(st, brands, spool, a.Statuses, log, m, opt.Inbound)
	regs := []web.Registrar{
		&webhook.Handlers{PublicURL: cfg.PublicURL, AuthToken: cfg.TwilioAuthToken, Inbound: a.Inbound,
			Metrics: m, Log: log, Now: opt.Now},
		api.New(st, log),
	}
	regs = append(regs, opt.Extra...)
	a.Echo = web.New(log, m, web.Health{
		Postgres: st.Ping,
		Redis:    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	}, regs...)
	return a, nil
}

// Close releases everything Build opened.
func (a *App) Close() {
	a.Inbound.Close()
	_ = a.Redis.Close()
	a.Store.Close()
}

// ListenAndServe serves HTTP on ln until ctx is done, then shuts down
// gracefully: requests in flight finish (up to 25 s) before it returns.
func (a *App) ListenAndServe(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("listening", "addr", ln.Addr().String(), "public_url", a.Cfg.PublicURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("app: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
