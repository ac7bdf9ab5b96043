package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// RetryAt asks for the task to run again at At without counting a failure:
// the sender number had no free slot, or the recipient's quiet hours.
type RetryAt struct {
	At     time.Time
	Reason string
}

func (e *RetryAt) Error() string {
	return fmt.Sprintf("retry at %s: %s", e.At.Format(time.RFC3339Nano), e.Reason)
}

// Attempt tells the handler where a task stands in its retries.
type Attempt struct {
	Retried, MaxRetry int
}

// Last reports whether a failure now would be the task's last.
func (a Attempt) Last() bool { return a.Retried >= a.MaxRetry }

// SendHandler sends one message. Returning nil finishes the task; *RetryAt
// reschedules it (not a failure); any other error is a failure retried with
// exponential backoff until MaxRetry.
type SendHandler func(ctx context.Context, p SendPayload, a Attempt) error

// BatchHandler sends the texts of one grouped task, with SendHandler's
// return values for the task as a whole.
type BatchHandler func(ctx context.Context, p BatchPayload, a Attempt) error

// Server is the asynq worker with Parley's queues.
type Server struct {
	srvs []*asynq.Server
	mux  *asynq.ServeMux
}

// ServerConfig tunes the worker.
type ServerConfig struct {
	Concurrency int // goroutines processing tasks (default 200)
	Log         *slog.Logger
	Namespace   string // prefix of the queue names, as given to NewClient
	// Fetchers is how many asynq servers share the concurrency (default 1).
	Fetchers int
	// RetryBase is the first backoff after a failure (default 1 s), doubling
	// up to 5 minutes.
	RetryBase time.Duration
}

// NewServer builds the worker. Queues are strictly prioritised: a waiting
// reply is always taken before any proactive or bulk task.
func NewServer(rdb redis.UniversalClient, cfg ServerConfig, send SendHandler, batch BatchHandler) *Server {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 200
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = time.Second
	}
	// asynq fetches tasks one at a time per server; on a busy process each
	// fetch waits to be scheduled, so one fetcher caps the send rate. Several
	// servers in the process fetch in parallel, sharing the concurrency.
	if cfg.Fetchers <= 0 {
		cfg.Fetchers = 1
	}
	acfg := asynq.Config{
		Concurrency:    max(1, cfg.Concurrency/cfg.Fetchers),
		Queues:         map[string]int{cfg.Namespace + Replies: 6, cfg.Namespace + Proactive: 3, cfg.Namespace + Bulk: 1},
		StrictPriority: true,
		// Idle workers look for new tasks this often: a reply waits at most this.
		TaskCheckInterval: 50 * time.Millisecond,
		// Rescheduled tasks (rate limit, quiet hours, backoff) come back this promptly.
		DelayedTaskCheckInterval: time.Second,
		IsFailure: func(err error) bool {
			var r *RetryAt
			return !errors.As(err, &r)
		},
		RetryDelayFunc: func(n int, err error, _ *asynq.Task) time.Duration {
			var r *RetryAt
			if errors.As(err, &r) {
				return max(time.Until(r.At), 0)
			}
			// 1 s, 2 s, 4 s … capped at 5 minutes, with jitter.
			d := cfg.RetryBase << min(n, 9)
			d = min(d, 5*time.Minute)
			return d/2 + time.Duration(rand.Int64N(int64(d/2)+1)) //nolint:gosec // G404: backoff jitter, not a secret
		},
		ShutdownTimeout: 20 * time.Second,
		Logger:          asynqLogger{cfg.Log},
		LogLevel:        asynq.WarnLevel,
	}
	srvs := make([]*asynq.Server, cfg.Fetchers)
	for i := range srvs {
		srvs[i] = asynq.NewServerFromRedisClient(rdb, acfg)
	}
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeSend, func(ctx context.Context, t *asynq.Task) error {
		var p SendPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.MessageID <= 0 {
			return fmt.Errorf("queue: bad send payload %q: %w", t.Payload(), asynq.SkipRetry)
		}
		a := Attempt{}
		a.Retried, _ = asynq.GetRetryCount(ctx)
		a.MaxRetry, _ = asynq.GetMaxRetry(ctx)
		return send(ctx, p, a)
	})
	mux.HandleFunc(TypeSendBatch, func(ctx context.Context, t *asynq.Task) error {
		var p BatchPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || len(p.IDs) == 0 || p.From == "" {
			return fmt.Errorf("queue: bad grouped send payload %q: %w", t.Payload(), asynq.SkipRetry)
		}
		a := Attempt{}
		a.Retried, _ = asynq.GetRetryCount(ctx)
		a.MaxRetry, _ = asynq.GetMaxRetry(ctx)
		return batch(ctx, p, a)
	})
	return &Server{srvs: srvs, mux: mux}
}

// Start runs the worker in the background.
func (s *Server) Start() error {
	for i, srv := range s.srvs {
		if err := srv.Start(s.mux); err != nil {
			for _, started := range s.srvs[:i] {
				started.Shutdown()
			}
			return fmt.Errorf("queue: start worker: %w", err)
		}
	}
	return nil
}

// Shutdown stops taking tasks and waits for those running (up to 20 s).
func (s *Server) Shutdown() {
	var wg sync.WaitGroup
	for _, srv := range s.srvs {
		wg.Add(1)
		go func() { defer wg.Done(); srv.Shutdown() }()
	}
	wg.Wait()
}

type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
