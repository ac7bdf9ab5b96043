// Package apptest builds a whole Parley process for tests: a fresh migrated
// database, the real Redis, the real HTTP server on a loopback port, and
// helpers that sign webhooks exactly as Twilio does.
package apptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/carrier/twilio"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/inbound"
	"github.com/parleyhq/parley/internal/logging"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
	"github.com/parleyhq/parley/internal/web/devphone"
)

// Test credentials: the shapes twilio-go accepts.
const (
	AccountSID  = "AC0123456789abcdef0123456789abcdef"
	AuthToken   = "0123456789abcdef0123456789abcdef"
	BrandNumber = "+15005550006"
)

// Env is one running Parley for one test.
type Env struct {
	App       *app.App
	Store     *store.Store // a separate pool straight to the database, for assertions
	DBURL     string
	PublicURL string
	Proxy     *Proxy // non-nil when Options.ViaProxy: cut it to take Postgres away
	Brand     store.Brand
	Client    *http.Client
	Twilio    *twiliotest.Fake // the fake Twilio REST API the app sends through
	Prefix    string           // this environment's Redis key prefix and queue namespace

	stop       context.CancelFunc
	workerStop func()
}

// Options change the environment.
type Options struct {
	ViaProxy bool // the app reaches Postgres through a Proxy the test can cut
	Inbound  inbound.Options
	LogTo    io.Writer
	DevPhone bool // mount the `parley dev` phone simulator
	Worker   bool // run the send worker, relay and reconciler in the process
	// Prefix shares Redis keys and queues with another Env (two workers, one
	// number's rate limit); empty means a fresh namespace.
	Prefix      string
	Concurrency int
	App         func(*app.Options)   // last changes to the app's options
	Config      func(*config.Config) // last changes to the app's configuration
	// Share runs this Parley as a second process of another Env: same
	// database, same Redis namespace, same fake Twilio.
	Share *Env
}

// RedisURL is the Redis the tests use.
func RedisURL() string {
	if v := os.Getenv("PARLEY_TEST_REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/15"
}

// New starts Parley on a fresh database with the brand "demo-air" owning
// BrandNumber, and stops it when t ends.
func New(t testing.TB, opt Options) *Env {
	t.Helper()
	ctx := context.Background()
	var env *Env
	if opt.Share != nil {
		s := opt.Share
		env = &Env{Store: s.Store, DBURL: s.DBURL, Brand: s.Brand, Client: s.Client, Twilio: s.Twilio}
		opt.Prefix = s.Prefix
	} else {
		st, dbURL := storetest.New(t)
		b, err := app.BrandAdd(ctx, st, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air", Numbers: []string{BrandNumber}, MPS: 10})
		if err != nil {
			t.Fatalf("apptest: brand: %v", err)
		}
		env = &Env{Store: st, DBURL: dbURL, Brand: b, Client: &http.Client{Timeout: 30 * time.Second}}
	}
	dbURL := env.DBURL
	appDB := dbURL
	if opt.ViaProxy {
		u, _ := url.Parse(dbURL)
		env.Proxy = NewProxy(t, u.Host)
		u.Host = env.Proxy.Addr()
		appDB = u.String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("apptest: listen: %v", err)
	}
	env.PublicURL = "http://" + ln.Addr().String()
	cfg := config.Config{
		DatabaseURL: appDB, RedisURL: RedisURL(), Addr: ln.Addr().String(), PublicURL: env.PublicURL,
		TwilioAccountSID: AccountSID, TwilioAuthToken: AuthToken, SpoolDir: t.TempDir(),
	}
	if opt.Config != nil {
		opt.Config(&cfg)
	}
	w := opt.LogTo
	if w == nil {
		w = io.Discard
		if os.Getenv("PARLEY_TEST_LOG") != "" {
			w = os.Stderr
		}
	}
	if env.Twilio == nil {
		env.Twilio = twiliotest.New(t, AccountSID, AuthToken)
	}
	tw, err := twilio.New(AccountSID, AuthToken, env.Twilio.URL(), 5*time.Second)
	if err != nil {
		t.Fatalf("apptest: twilio client: %v", err)
	}
	env.Prefix = opt.Prefix
	if env.Prefix == "" {
		env.Prefix = "t" + randHex(6) + ":"
	}
	aopt := app.Options{Inbound: opt.Inbound, Carrier: tw, RedisPrefix: env.Prefix, QueueNamespace: env.Prefix,
		Concurrency: opt.Concurrency, RelayEvery: 200 * time.Millisecond, ReconcileEvery: time.Hour,
		RetryBase: 100 * time.Millisecond}
	if opt.App != nil {
		opt.App(&aopt)
	}
	a, err := app.Build(ctx, cfg, logging.New(w, slog.LevelInfo), aopt)
	if err != nil {
		t.Fatalf("apptest: build: %v", err)
	}
	env.App = a
	a.Sender.Now = Midday()
	if opt.App != nil {
		opt.App(&aopt) // a test's own clock wins
		if aopt.Now != nil {
			a.Sender.Now = aopt.Now
		}
	}
	if opt.DevPhone {
		(&devphone.Handlers{PublicURL: env.PublicURL, AuthToken: AuthToken, BrandNumber: BrandNumber, Store: a.Store, Log: a.Log}).Register(a.Echo)
	}
	runCtx, cancel := context.WithCancel(ctx)
	env.stop = cancel
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln, opt.Worker) }()
	t.Cleanup(func() {
		cancel()
		<-done
		env.stopWorker()
		a.Close()
	})
	return env
}

// StartWorker starts the send worker, relay and reconciler in this Env's
// process (for tests that first queue work with no worker running).
func (e *Env) StartWorker(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := e.App.StartWorker(ctx)
	if err != nil {
		cancel()
		t.Fatalf("apptest: start worker: %v", err)
	}
	e.workerStop = func() { cancel(); wait() }
}

// StopWorker stops a worker started by StartWorker, as a shutdown would,
// and returns once it has stopped.
func (e *Env) StopWorker(t testing.TB) {
	t.Helper()
	e.stopWorker()
}

func (e *Env) stopWorker() {
	if e.workerStop != nil {
		e.workerStop()
		e.workerStop = nil
	}
}

// FlushQueue deletes every Redis key of this Env's namespace — the asynq
// queues and Parley's own keys — as a Redis flush would, without touching
// other tests' keys.
func (e *Env) FlushQueue(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for _, pattern := range []string{"asynq:{" + e.Prefix + "*", e.Prefix + "*", "parley:" + e.Prefix + "*"} {
		iter := e.App.Redis.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			if err := e.App.Redis.Del(ctx, iter.Val()).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// Sign returns the X-Twilio-Signature Twilio would send for form posted to path.
func (e *Env) Sign(path string, form url.Values) string {
	return twilio.Sign(AuthToken, e.PublicURL+path, form)
}

// PostForm posts form to path signed as Twilio would, and returns the status
// code and body.
func (e *Env) PostForm(t testing.TB, path string, form url.Values) (int, string) {
	t.Helper()
	return e.PostRaw(t, path, form.Encode(), e.Sign(path, form))
}

// PostRaw posts body with the given signature (empty for none).
func (e *Env) PostRaw(t testing.TB, path, body, signature string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.PublicURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Inbound is a literal inbound SMS form as Twilio posts it.
func Inbound(sid, from, body string) url.Values {
	return url.Values{
		"ToCountry": {"US"}, "ToState": {"CA"}, "SmsMessageSid": {sid}, "NumMedia": {"0"},
		"ToCity": {"SAN FRANCISCO"}, "FromZip": {"10001"}, "SmsSid": {sid}, "FromState": {"NY"},
		"SmsStatus": {"received"}, "FromCity": {"NEW YORK"}, "Body": {body}, "FromCountry": {"US"},
		"To": {BrandNumber}, "ToZip": {"94105"}, "NumSegments": {"1"}, "MessageSid": {sid},
		"AccountSid": {AccountSID}, "From": {from}, "ApiVersion": {"2010-04-01"},
	}
}

// WaitFor polls cond until it holds or the deadline passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// Count runs a count(*) query (tests only) and returns the number.
func (e *Env) Count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.Store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("count %q: %v", sql, err)
	}
	return n
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Midday returns a clock that runs at real speed but reads 12:00 in New York
// when it is made, so quiet hours do not hold a test's texts whatever time the
// suite runs at. Tests of quiet hours set their own clock. The noon is the
// next one, never a past one: the clock runs ahead of the real one, so a
// time it computes (a text held until 08:00 in Honolulu) is in the future
// for the queue too, which schedules by the real clock.
func Midday() func() time.Time {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	now := time.Now()
	l := now.In(ny)
	noon := time.Date(l.Year(), l.Month(), l.Day(), 12, 0, 0, 0, ny)
	if noon.Before(now) {
		noon = time.Date(l.Year(), l.Month(), l.Day()+1, 12, 0, 0, 0, ny)
	}
	shift := noon.Sub(now)
	return func() time.Time { return time.Now().Add(shift) }
}

// Get fetches u and returns the status code and body.
func Get(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u) //nolint:gosec,noctx // G107: a test helper fetching the test server's own URL, bounded by the test's timeout
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// RawAsynqRate is the yardstick of the send benchmarks: n tasks already
// enqueued, a no-op handler, the given concurrency, Parley's queues and
// priorities, the same Redis; tasks per second.
func RawAsynqRate(tb testing.TB, env *Env, n, concurrency int) float64 {
	tb.Helper()
	ns := env.Prefix + "raw:"
	c := asynq.NewClientFromRedisClient(env.App.Redis)
	for i := 0; i < n; i++ {
		if _, err := c.Enqueue(asynq.NewTask("noop", []byte(strconv.Itoa(i))), asynq.Queue(ns+"bulk"), asynq.TaskID(ns+strconv.Itoa(i))); err != nil {
			tb.Fatal(err)
		}
	}
	var done atomic.Int64
	srv := asynq.NewServerFromRedisClient(env.App.Redis, asynq.Config{Concurrency: concurrency, StrictPriority: true,
		Queues: map[string]int{ns + "replies": 6, ns + "proactive": 3, ns + "bulk": 1}, TaskCheckInterval: 50 * time.Millisecond,
		LogLevel: asynq.ErrorLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("noop", func(context.Context, *asynq.Task) error { done.Add(1); return nil })
	start := time.Now()
	if err := srv.Start(mux); err != nil {
		tb.Fatal(err)
	}
	for done.Load() < int64(n) {
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	srv.Shutdown()
	return float64(n) / elapsed.Seconds()
}
