// Package app is Parley's composition root: it builds the pool, Redis, the
// carrier, the queue, the services and the HTTP server from a Config, and is
// the only package that knows every piece.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynqmon"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/carrier"
	"github.com/parleyhq/parley/internal/carrier/twilio"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/inbound"
	"github.com/parleyhq/parley/internal/metrics"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/question"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/trigger"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/web/api"
	"github.com/parleyhq/parley/internal/web/console"
	"github.com/parleyhq/parley/internal/web/links"
	"github.com/parleyhq/parley/internal/web/webhook"
)

// App is a running Parley process's parts.
type App struct {
	Cfg   config.Config
	Log   *slog.Logger
	Store *store.Store
	// Reports is where the analytics read: the read replica when
	// DATABASE_REPLICA_URL is set, else Store.
	Reports    *store.Store
	Redis      *redis.Client
	Metrics    *metrics.Metrics
	Carrier    carrier.Carrier
	Queue      *queue.Client
	Limiter    *queue.Limiter
	Outbox     *outbound.Outbox
	Sender     *outbound.Sender
	Statuses   *outbound.Statuses
	Relay      *outbound.Relay
	Reconciler *outbound.Reconciler
	Inbound    *inbound.Service // nil in a worker-only process
	Routing    *automation.Book // brands' settings and auto-replies, read from memory
	// Dispatcher assigns and reassigns conversations and closes quiet ones
	// (it runs with the worker).
	Dispatcher *automation.Dispatcher
	// Campaigns creates and controls campaigns; CampaignRunner (with the
	// worker) starts and fans them out.
	Campaigns      *campaign.Service
	CampaignRunner *campaign.Runner
	// Triggers takes events in and keeps the rules; TriggerRunner (with the
	// worker) sends due runs, evaluates date rules and reads answers.
	Triggers      *trigger.Service
	TriggerRunner *trigger.Runner
	Answers       *question.Processor
	// Hooks keeps brands' webhook subscriptions and emits events to them;
	// HookWorker (with the worker) posts the deliveries.
	Hooks      *hooks.Service
	HookWorker *hooks.Worker
	Echo       *echo.Echo    // nil in a worker-only process
	Hub        *realtime.Hub // live console updates; nil in a worker-only process

	opt       Options
	redisConn queue.RedisConn
	queues    *asynqmon.HTTPHandler // nil in a worker
}

// Options change how Build assembles the app.
type Options struct {
	Extra       []web.Registrar
	Inbound     inbound.Options
	Now         func() time.Time
	Carrier     carrier.Carrier // default: Twilio through twilio-go
	WorkerOnly  bool            // no HTTP server, no inbound pipeline (`parley worker`)
	Concurrency int             // worker goroutines (default 200: most of them only wait for a slot)
	// RedisPrefix namespaces Parley's own Redis keys (rate limits, relay
	// marker), so tests sharing one Redis do not meet.
	RedisPrefix string
	// QueueNamespace prefixes the asynq queue names ("" in production).
	QueueNamespace string
	RetryBase      time.Duration // first backoff after a send failure (default 1 s)
	// SignInDelay, when set, replaces the first wait after repeated failed
	// sign-ins (auth.Service.BaseDelay; tests lengthen it).
	SignInDelay time.Duration
	// WrapLimiter, when set, wraps the shared rate limiter (tests record slots).
	WrapLimiter func(outbound.Limiter) outbound.Limiter
	// RelayEvery and ReconcileEvery set the periodic jobs' pace (defaults 2 s and 30 s).
	RelayEvery, ReconcileEvery time.Duration
	// DispatchEvery sets the assignment pass's pace (default 1 s).
	DispatchEvery time.Duration
	// CampaignEvery sets the campaign runner's pace (default 500 ms).
	CampaignEvery time.Duration
	// TriggerEvery sets the trigger runner's and answer processor's pace
	// (default 500 ms).
	TriggerEvery time.Duration
}

// Build connects to Postgres and Redis and assembles every service.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.RedisPrefix == "" {
		opt.RedisPrefix = "parley:"
	}
	if opt.RelayEvery == 0 {
		opt.RelayEvery = 2 * time.Second
	}
	if opt.ReconcileEvery == 0 {
		opt.ReconcileEvery = 30 * time.Second
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, 24)
	if err != nil {
		return nil, err
	}
	rconn, err := queue.ParseRedisURL(cfg.RedisURL)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := rconn.Client(64) // every send worker takes the limiter's connection too
	a := &App{Cfg: cfg, Log: log, Store: st, Redis: rdb, Metrics: metrics.New(), opt: opt, redisConn: rconn}
	a.Carrier = opt.Carrier
	if a.Carrier == nil {
		if a.Carrier, err = twilio.New(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIURL, 15*time.Second); err != nil {
			a.Close()
			return nil, err
		}
	}
	a.Queue = queue.NewClient(rdb, opt.QueueNamespace)
	a.Limiter = queue.NewLimiter(rdb, opt.RedisPrefix+"rl:")
	a.Statuses = outbound.NewStatuses(st)
	a.Hooks = hooks.New(st, rdb, opt.QueueNamespace, log)
	a.Statuses.Hooks = a.Hooks
	a.Outbox = outbound.NewOutbox(st, a.Queue, log)
	var lim outbound.Limiter = a.Limiter
	if opt.WrapLimiter != nil {
		lim = opt.WrapLimiter(lim)
	}
	a.Sender = outbound.NewSender(st, a.Carrier, lim, cfg.PublicURL, log, a.Metrics)
	a.Sender.Now = opt.Now
	a.Sender.RetryBase = opt.RetryBase / 2
	a.Sender.Tasks = a.Queue
	a.Sender.Hooks = a.Hooks
	spooledOptOuts := queue.NewSpooledOptOuts(rdb, opt.RedisPrefix)
	a.Sender.LeaveSpooledOptOuts(spooledOptOuts)
	a.Limiter.Lead = a.Sender.BookingLead
	if opt.Concurrency <= 0 {
		opt.Concurrency = 200
		a.opt.Concurrency = 200
	}
	a.Sender.MaxWaiters = opt.Concurrency / 2
	a.Relay = outbound.NewRelay(st, a.Queue, log)
	a.Reconciler = outbound.NewReconciler(st, a.Carrier, a.Queue, log)
	a.Routing = automation.NewBook(st, 0)
	a.Dispatcher = automation.NewDispatcher(st, a.Routing, log)
	a.Dispatcher.Now = opt.Now
	a.Dispatcher.Hooks = a.Hooks
	a.Campaigns = campaign.NewService(st, a.Outbox, cfg.PublicURL)
	a.Campaigns.Now, a.Campaigns.Log = opt.Now, log
	a.CampaignRunner = campaign.NewRunner(a.Campaigns, log)
	a.Triggers = trigger.NewService(st, log)
	a.Triggers.Now = opt.Now
	a.TriggerRunner = trigger.NewRunner(a.Triggers, a.Outbox, log)
	a.TriggerRunner.Dates = trigger.NewDates(a.Triggers)
	a.Answers = question.NewProcessor(st, a.Outbox, log)
	a.Answers.Hooks = a.Hooks
	a.CampaignRunner.Hooks = a.Hooks
	engagement := conversation.NewEngagement(st, log)
	a.TriggerRunner.Extra = append(a.TriggerRunner.Extra, func(ctx context.Context) { a.Answers.Pass(ctx) }, engagement.MaybeRefresh,
		audit.NewPruner(st, log, cfg.AuditRetention).MaybePrune, analytics.NewRefresher(st, log).MaybeRefresh)
	if opt.WorkerOnly {
		return a, nil
	}
	a.Reports = st
	if cfg.ReplicaURL != "" {
		if a.Reports, err = store.OpenReplica(ctx, cfg.ReplicaURL, 8); err != nil {
			a.Close()
			return nil, err
		}
	}

	spool, err := inbound.OpenSpool(cfg.SpoolDir)
	if err != nil {
		a.Close()
		return nil, err
	}
	brands := inbound.NewBrands(st)
	if err := brands.Load(ctx, 0); err != nil {
		log.Warn("brand numbers not loaded at start; will retry on first webhook", "err", err)
	}
	inOpt := opt.Inbound
	inOpt.Routing = a.Routing
	inOpt.OnStored = a.Dispatcher.Kick
	inOpt.Hooks = a.Hooks
	inOpt.OptOutMarks = spooledOptOuts
	if inOpt.OnReply == nil {
		inOpt.OnReply = a.Outbox.EnqueueReply
	}
	a.Inbound = inbound.NewService(st, brands, spool, a.Statuses, log, a.Metrics, inOpt)
	a.Hub = realtime.New(st, log)
	a.Metrics.Watch(a.metricSources())
	// The queue monitor reads asynq's own keys through its own connection.
	a.queues = asynqmon.New(asynqmon.Options{RootPath: console.QueuesPath, RedisConnOpt: rconn.Asynq()})
	apiHandlers := api.New(st, log, a.Outbox, a.Routing, a.Campaigns, a.Triggers)
	apiHandlers.Limit = queue.NewRequestLimiter(rdb, opt.RedisPrefix+"apirate:")
	apiHandlers.Hooks = a.Hooks
	apiHandlers.Reports = a.Reports
	convs := conversation.New(st, a.Outbox, contact.NewService(st))
	convs.Hooks = a.Hooks
	signIn := auth.New(st)
	if opt.SignInDelay > 0 {
		signIn.BaseDelay = opt.SignInDelay
	}
	regs := []web.Registrar{
		&webhook.Handlers{PublicURL: cfg.PublicURL, AuthToken: cfg.TwilioAuthToken, Inbound: a.Inbound,
			Metrics: a.Metrics, Log: log, Now: opt.Now},
		apiHandlers,
		&links.Handlers{Campaigns: a.Campaigns, Log: log},
		&console.Handlers{Auth: signIn, Store: st, Reports: a.Reports, Log: log, Secure: strings.HasPrefix(cfg.PublicURL, "https://"),
			Conversations: convs, Hub: a.Hub, Webhooks: a.Hooks,
			Automation: automation.NewService(st, a.Routing), Campaigns: a.Campaigns, Triggers: a.Triggers,
			Audit: audit.NewRecorder(st, log), Queues: a.queues},
	}
	regs = append(regs, opt.Extra...)
	a.Echo = web.New(log, a.Metrics, web.Health{
		Postgres: st.Ping,
		Redis:    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	}, web.Options{TrustedProxies: cfg.TrustedProxies, FlyClientIP: cfg.OnFly, MetricsToken: cfg.MetricsToken,
		HTTPS: strings.HasPrefix(cfg.PublicURL, "https://")}, regs...)
	return a, nil
}

// Close releases everything Build opened.
func (a *App) Close() {
	if a.Inbound != nil {
		a.Inbound.Close()
	}
	if a.queues != nil {
		_ = a.queues.Close()
	}
	_ = a.Redis.Close()
	if a.Reports != nil && a.Reports != a.Store {
		a.Reports.Close()
	}
	a.Store.Close()
}

// StartWorker runs the send worker, the relay and the reconciler until ctx
// ends; the returned function waits for them to stop.
func (a *App) StartWorker(ctx context.Context) (wait func(), err error) {
	// The worker's own connections: asynq fetches tasks one at a time, so a
	// fetch must never wait for a connection behind the send handlers.
	wrdb := a.redisConn.Client(50)
	srv := queue.NewServer(wrdb, queue.ServerConfig{Concurrency: a.opt.Concurrency, Log: a.Log, Namespace: a.opt.QueueNamespace,
		RetryBase: a.opt.RetryBase}, a.Sender.Handle, a.Sender.HandleBatch)
	a.Sender.Start()
	if err := srv.Start(); err != nil {
		_ = wrdb.Close()
		return nil, err
	}
	var wg sync.WaitGroup
	a.HookWorker = hooks.NewWorker(a.Hooks, wrdb, 10)
	wg.Add(6)
	go func() { defer wg.Done(); a.Dispatcher.Run(ctx, a.opt.DispatchEvery) }()
	go func() { defer wg.Done(); a.CampaignRunner.Run(ctx, a.opt.CampaignEvery) }()
	go func() { defer wg.Done(); a.TriggerRunner.Run(ctx, a.opt.TriggerEvery) }()
	go func() { defer wg.Done(); a.Relay.Run(ctx, a.opt.RelayEvery) }()
	go func() { defer wg.Done(); a.Reconciler.Run(ctx, a.opt.ReconcileEvery) }()
	go func() {
		defer wg.Done()
		if err := a.HookWorker.Run(ctx); err != nil {
			a.Log.Error("webhooks: worker stopped", "err", err)
		}
	}()
	a.Log.Info("worker running", "queues", []string{queue.Replies, queue.Proactive, queue.Bulk})
	return func() {
		<-ctx.Done()
		a.Sender.Stop() // texts waiting for a slot go back unclaimed at once
		srv.Shutdown()
		wg.Wait()
		_ = wrdb.Close()
	}, nil
}

// Run serves HTTP on ln and, when worker is true, runs the worker in the same
// process, until ctx is done.
func (a *App) Run(ctx context.Context, ln net.Listener, worker bool) error {
	if worker {
		wctx, cancel := context.WithCancel(ctx)
		wait, err := a.StartWorker(wctx)
		if err != nil {
			cancel()
			return err
		}
		defer func() { cancel(); wait() }()
	}
	return a.ListenAndServe(ctx, ln)
}

// RunWorker runs the worker alone until ctx is done.
func RunWorker(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) error {
	opt.WorkerOnly = true
	a, err := Build(ctx, cfg, log, opt)
	if err != nil {
		return err
	}
	defer a.Close()
	var served chan error
	if cfg.MetricsAddr != "" {
		// The worker's own figures (its queues' view, its pool, its sends
		// and carrier calls) for the scraper: /metrics, /healthz, /readyz.
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("PARLEY_METRICS_ADDR: %w", err)
		}
		a.Metrics.Watch(a.metricSources())
		a.Echo = web.New(log, a.Metrics, web.Health{Postgres: a.Store.Ping,
			Redis: func(ctx context.Context) error { return a.Redis.Ping(ctx).Err() }},
			web.Options{MetricsToken: cfg.MetricsToken})
		served = make(chan error, 1)
		go func() { served <- a.ListenAndServe(ctx, ln) }()
	}
	wait, err := a.StartWorker(ctx)
	if err != nil {
		return err
	}
	wait()
	if served != nil {
		return <-served
	}
	return nil
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
	if a.Hub != nil {
		hctx, stop := context.WithCancel(ctx)
		defer stop()
		go func() {
			if err := a.Hub.Run(hctx); err != nil {
				a.Log.Error("realtime: listener stopped", "err", err)
			}
		}()
		srv.RegisterOnShutdown(a.Hub.Close) // open event streams end, so shutdown does not wait on them
	}
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
