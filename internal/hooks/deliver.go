package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/store"
)

// Queue is the asynq queue of delivery tasks. It has a worker of its own
// with a few goroutines, so a slow receiver never takes a send worker's
// slot.
const Queue = "webhooks"

// TaskType is the task that posts one delivery.
const TaskType = "webhook:deliver"

// MaxAge is how long a delivery is retried: past it, a failed attempt is
// its last and the delivery is failed.
const MaxAge = 24 * time.Hour

// taskRetries bounds retries of errors of Parley's own (Postgres away);
// the receiver's failures are rescheduled without counting.
const taskRetries = 25

type payload struct {
	ID int64 `json:"id"`
}

// Worker posts deliveries.
type Worker struct {
	svc *Service
	st  *store.Store
	log *slog.Logger
	srv *asynq.Server
	// Client posts the deliveries (10 s timeout, redirects not followed,
	// internal addresses refused: deliveryClient).
	Client *http.Client
	// RetryBase is the wait after a first failed attempt (default 30 s),
	// doubling up to RetryMax (default 1 h).
	RetryBase, RetryMax time.Duration
	// SweepEvery is how often pending deliveries whose task was lost are
	// queued again (default 30 s).
	SweepEvery time.Duration
}

// NewWorker builds the delivery worker; concurrency is its goroutines
// (default 10).
func NewWorker(svc *Service, rdb redis.UniversalClient, concurrency int) *Worker {
	if concurrency <= 0 {
		concurrency = 10
	}
	w := &Worker{svc: svc, st: svc.st, log: svc.log, RetryBase: 30 * time.Second, RetryMax: time.Hour, SweepEvery: 30 * time.Second,
		Client: deliveryClient()}
	w.srv = asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              concurrency,
		Queues:                   map[string]int{svc.ns + Queue: 1},
		TaskCheckInterval:        100 * time.Millisecond,
		DelayedTaskCheckInterval: time.Second,
		IsFailure: func(err error) bool {
			var r *retryAt
			return !errors.As(err, &r)
		},
		RetryDelayFunc: func(n int, err error, _ *asynq.Task) time.Duration {
			var r *retryAt
			if errors.As(err, &r) {
				return max(time.Until(r.at), 0)
			}
			return min(time.Second<<min(n, 8), 5*time.Minute)
		},
		ShutdownTimeout: 15 * time.Second,
		LogLevel:        asynq.WarnLevel,
		Logger:          asynqLogger{svc.log},
		ErrorHandler: asynq.ErrorHandlerFunc(func(_ context.Context, t *asynq.Task, err error) {
			var r *retryAt
			if !errors.As(err, &r) {
				svc.log.Warn("webhooks: delivery task failed", "payload", string(t.Payload()), "err", err)
			}
		}),
	})
	return w
}

// retryAt reschedules a delivery's task without counting a failure: the
// receiver failed, or an earlier delivery of the conversation is pending.
type retryAt struct {
	at     time.Time
	reason string
}

func (e *retryAt) Error() string {
	return "again at " + e.at.Format(time.RFC3339Nano) + ": " + e.reason
}

// Run delivers until ctx ends, and sweeps for deliveries whose task was
// lost.
func (w *Worker) Run(ctx context.Context) error {
	mux := asynq.NewServeMux()
	mux.HandleFunc(TaskType, func(ctx context.Context, t *asynq.Task) error {
		var p payload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ID <= 0 {
			return fmt.Errorf("hooks: bad payload %q: %w", t.Payload(), asynq.SkipRetry)
		}
		return w.Deliver(ctx, p.ID)
	})
	if err := w.srv.Start(mux); err != nil {
		return fmt.Errorf("hooks: start worker: %w", err)
	}
	defer w.srv.Shutdown()
	tick := time.NewTicker(w.SweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			w.Sweep(ctx)
		}
	}
}

// Sweep queues again the pending deliveries more than a minute past their
// time: a task lost with Redis's data, or never queued. One still queued
// keeps its task (the task id is the delivery's).
func (w *Worker) Sweep(ctx context.Context) {
	ids, err := w.st.OverdueDeliveries(ctx, time.Minute, 500)
	if err != nil {
		w.log.Warn("webhooks: sweep", "err", err)
		return
	}
	for _, id := range ids {
		if err := w.svc.enqueue(ctx, id, time.Time{}); err != nil {
			w.log.Warn("webhooks: sweep enqueue", "delivery", id, "err", err)
			return
		}
	}
}

// Deliver makes one attempt of delivery id. nil: done (delivered, failed
// for good, or no longer pending); *retryAt: try again then.
func (w *Worker) Deliver(ctx context.Context, id int64) error {
	d, err := w.st.DeliveryToSend(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := w.svc.Now()
	if d.Blocked != nil {
		// An earlier delivery of the conversation is pending: wait for its
		// next attempt, a little after it.
		return &retryAt{at: later(d.Blocked.Add(200*time.Millisecond), now.Add(250*time.Millisecond)), reason: "an earlier delivery is pending"}
	}
	code, msg := w.post(ctx, d, now)
	a := store.DeliveryAttempt{Code: code, Error: msg, Status: "delivered"}
	if msg != "" {
		a.Status, a.NextAt = "failed", time.Time{}
		deadline := d.CreatedAt.Add(MaxAge)
		if now.Before(deadline) {
			a.Status = "pending"
			a.NextAt = w.backoff(d.Attempts + 1)
			if a.NextAt.After(deadline) {
				a.NextAt = deadline
			}
		}
	}
	if err := w.st.RecordAttempt(ctx, id, a); err != nil {
		return err
	}
	if a.Status == "pending" {
		return &retryAt{at: a.NextAt, reason: msg}
	}
	return nil
}

// backoff is when attempt n+1 goes, after the nth failed: RetryBase
// doubling, capped at RetryMax, with up to a fifth of jitter.
func (w *Worker) backoff(n int) time.Time {
	d := min(w.RetryBase<<min(n-1, 20), w.RetryMax)
	d += time.Duration(rand.Int64N(int64(d/5) + 1)) //nolint:gosec // G404: backoff jitter, not a secret
	return w.svc.Now().Add(d)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// post sends the delivery; msg is "" on a 2xx answer, else what failed.
func (w *Worker) post(ctx context.Context, d store.DeliveryToSend, now time.Time) (code int, msg string) {
	body := []byte(d.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	req.Header.Set(HeaderSignature, Sign(d.Secret, now, body))
	req.Header.Set(HeaderEvent, d.Type)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	resp, err := w.Client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Sprintf("the receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, ""
}

type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "webhooks") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "webhooks") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "webhooks") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "webhooks") }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "webhooks") }
