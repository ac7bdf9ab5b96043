package outbound_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
	"github.com/parleyhq/parley/internal/logging"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// A `parley worker` process killed with SIGKILL in the middle of a burst,
// then a new one started: no text reaches the carrier twice; only texts
// that were claimed when the process died are left to the reconciler, which
// records the ones the carrier has and sends the others once; none ends
// unknown beyond those whose carrier call was in flight at the kill.
//
// Not parallel: it runs before the package's parallel tests start, so that
// two worker processes at 100 texts a second do not disturb the pacing
// tests' measurements.
func TestWorkerKilledMidBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs parley processes")
	}
	ctx := context.Background()
	w := newProcWorld(t, 50*time.Millisecond)
	bin, st, rdb, fake, env := w.bin, w.st, w.rdb, w.fake, w.env
	log := logging.New(io.Discard, slog.LevelInfo)
	q := queue.NewClient(rdb, "") // the production namespace, in a Redis database of its own

	// The burst is queued (rows and tasks) before any worker runs.
	const burst = 300
	outbox := outbound.NewOutbox(st, q, log)
	ids := make(map[int64]bool, burst)
	for i := 0; i < burst; i++ {
		res, err := outbox.Send(ctx, outbound.SendRequest{Brand: "demo-air", To: fmt.Sprintf("+1404556%04d", i),
			Body: fmt.Sprintf("burst text %d", i), Origin: "agent"})
		if err != nil {
			t.Fatal(err)
		}
		ids[res.ID] = true
	}

	first := startWorker(t, bin, env, "first")
	apptest.WaitFor(t, 60*time.Second, "30% of the burst at the carrier", func() bool { return fake.Count() >= burst*3/10 })
	killAt := time.Now()
	first.kill(t)
	deadAt := time.Now()
	inFlight := fake.CreatesInFlight(killAt, deadAt)
	// Postgres still runs what a dead client had sent (a claim may commit
	// after the kill, even one still unread in its socket): end the dead
	// worker's sessions, and read the claims once they are gone.
	endSessions(t, st, "first")
	claimed := statusIDs(t, st, "sending")
	t.Logf("killed after %d creates; %d in flight at the kill, %d messages claimed", fake.Count(), inFlight, len(claimed))

	// asynq gives a dead worker's tasks back once their lease has been
	// expired for 30 s, which is up to a minute after the kill; move the
	// leases back by two minutes instead of waiting (the new worker's
	// recoverer looks at them when it starts).
	moved := expireLeases(t, rdb)
	t.Logf("moved %d leases of the dead worker's tasks", moved)

	second := startWorker(t, bin, env, "second")
	insp := asynq.NewInspectorFromRedisClient(rdb)
	apptest.WaitFor(t, 60*time.Second, "the second worker to take every task", func() bool {
		return len(statusIDs(t, st, "queued", "held")) == 0 && tasksLeft(t, insp) == 0
	})
	stuck := statusIDs(t, st, "sending")
	for id := range stuck {
		if !claimed[id] {
			t.Errorf("message %d is left sending but was not claimed when the worker died", id)
		}
	}

	// Only the dead worker's claims are left; nothing else calls the carrier
	// for them, so the lookup may run at once.
	tw, err := twilio.New(apptest.AccountSID, apptest.AuthToken, fake.URL(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rec := outbound.NewReconciler(st, tw, q, log)
	rec.After, rec.AmbiguousAfter = 0, 0
	resolved := 0
	apptest.WaitFor(t, 30*time.Second, fmt.Sprintf("the reconciler to resolve %d messages", len(stuck)), func() bool {
		n, err := rec.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resolved += n
		return resolved >= len(stuck)
	})
	apptest.WaitFor(t, 30*time.Second, "every message to be final", func() bool {
		return len(statusIDs(t, st, "queued", "held", "sending")) == 0
	})
	second.stop(t)

	perMessage := map[int64]int{}
	for _, m := range fake.Sent() {
		u, err := url.Parse(m.StatusCallback)
		if err != nil {
			t.Fatalf("status callback %q: %v", m.StatusCallback, err)
		}
		id, err := strconv.ParseInt(u.Query().Get("m"), 10, 64)
		if err != nil || !ids[id] {
			t.Fatalf("a create for message %q, not one of the burst", u.Query().Get("m"))
		}
		perMessage[id]++
	}
	for id := range ids {
		if perMessage[id] != 1 {
			t.Errorf("message %d reached the carrier %d times, want once", id, perMessage[id])
		}
	}
	unknown := statusIDs(t, st, "unknown")
	if len(unknown) > inFlight {
		t.Errorf("%d messages ended unknown; at most %d (in flight at the kill) may", len(unknown), inFlight)
	}
	if sent := statusIDs(t, st, "sent"); len(sent)+len(unknown) != burst {
		t.Errorf("%d sent and %d unknown of %d", len(sent), len(unknown), burst)
	}
	t.Logf("%d left to the reconciler; %d unknown", len(stuck), len(unknown))
}

// procWorld is what the tests that run `parley worker` processes share: the
// binary, a database with the demo brand at 100 mps, a Redis database of
// their own, a fake Twilio with latency, and the processes' environment.
type procWorld struct {
	bin   string
	st    *store.Store
	brand store.Brand
	rdb   *redis.Client
	fake  *twiliotest.Fake
	env   []string
}

func newProcWorld(t *testing.T, latency time.Duration) procWorld {
	t.Helper()
	w := procWorld{bin: buildParley(t)}
	st, dbURL := storetest.New(t)
	b, err := app.BrandAdd(context.Background(), st, app.BrandAddInput{Slug: "demo-air", Name: "Demo Air", Numbers: []string{apptest.BrandNumber}, MPS: 100})
	if err != nil {
		t.Fatal(err)
	}
	w.st, w.brand = st, b
	redisURL, rdb := privateRedisDB(t)
	w.rdb = rdb
	w.fake = twiliotest.New(t, apptest.AccountSID, apptest.AuthToken)
	w.fake.SetLatency(latency)
	w.env = append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redisURL,
		"TWILIO_ACCOUNT_SID="+apptest.AccountSID, "TWILIO_AUTH_TOKEN="+apptest.AuthToken, "TWILIO_API_URL="+w.fake.URL(),
		"PARLEY_PUBLIC_URL=http://127.0.0.1:9")
	return w
}

// endSessions ends the Postgres sessions a killed worker left (a claim it
// sent may still commit after the kill) and waits until they are gone.
func endSessions(t *testing.T, st *store.Store, name string) {
	t.Helper()
	apptest.WaitFor(t, 30*time.Second, "the dead worker's sessions to end", func() bool {
		var n int
		if err := st.Pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'parley-' || $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// buildParley builds cmd/parley into a temporary directory.
func buildParley(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "parley")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/parleyhq/parley/cmd/parley")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// privateRedisDB reserves a Redis logical database no other test uses (the
// worker process enqueues in the production namespace, which other tests'
// workers must not see), empties it, and empties it again at the end. The
// reservation is a key with a lifetime in the tests' own database.
func privateRedisDB(t *testing.T) (string, *redis.Client) {
	t.Helper()
	ctx := context.Background()
	base, err := redis.ParseURL(apptest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	locks := redis.NewClient(base)
	t.Cleanup(func() { _ = locks.Close() })
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	for n := 1; n < 15; n++ { // 15 is apptest's default database, base.DB the shared one
		if n == base.DB {
			continue
		}
		key := fmt.Sprintf("parley:test:redis-db:%d", n)
		ok, err := locks.SetNX(ctx, key, hex.EncodeToString(token), 5*time.Minute).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		opt := *base
		opt.DB = n
		rdb := redis.NewClient(&opt)
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = rdb.FlushDB(context.Background()).Err()
			_ = rdb.Close()
			locks.Del(context.Background(), key)
		})
		u, _ := url.Parse(apptest.RedisURL())
		u.Path = "/" + strconv.Itoa(n)
		return u.String(), rdb
	}
	t.Fatal("no free Redis database for a worker process")
	return "", nil
}

type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// lockedWriter collects a child's output (exec copies stdout and stderr
// from two goroutines).
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// startWorker runs `parley worker` with env; it is killed when the test ends.
func startWorker(t *testing.T, bin string, env []string, name string) *child {
	t.Helper()
	c := &child{name: name, cmd: exec.Command(bin, "worker"), done: make(chan struct{})}
	// Its Postgres sessions carry its name, so the test can tell them apart.
	for _, e := range env {
		if u, ok := strings.CutPrefix(e, "DATABASE_URL="); ok {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			e = "DATABASE_URL=" + u + sep + "application_name=parley-" + name
		}
		c.cmd.Env = append(c.cmd.Env, e)
	}
	w := &lockedWriter{}
	c.cmd.Stdout, c.cmd.Stderr = w, w
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			t.Logf("%s worker's output:\n%s", c.name, w.String())
		}
	})
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Errorf("%s worker did not stop on SIGTERM", c.name)
	}
}

// statusIDs returns the burst's messages in any of statuses.
func statusIDs(t *testing.T, st *store.Store, statuses ...string) map[int64]bool {
	t.Helper()
	rows, err := st.Pool.Query(context.Background(), `SELECT id FROM messages WHERE direction = 'outbound' AND status = ANY($1)`, statuses)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expireLeases moves the lease of every active task two minutes into the
// past, as if the dead worker had been gone that long, and counts them.
func expireLeases(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for _, q := range []string{queue.Replies, queue.Proactive, queue.Bulk} {
		key := "asynq:{" + q + "}:lease" // asynq's lease set: task id → lease expiry (unix seconds)
		ids, err := rdb.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		past := float64(time.Now().Add(-2 * time.Minute).Unix())
		for _, id := range ids {
			if err := rdb.ZAdd(ctx, key, redis.Z{Score: past, Member: id}).Err(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// tasksLeft counts the tasks still to run on Parley's queues.
func tasksLeft(t *testing.T, insp *asynq.Inspector) int {
	t.Helper()
	n := 0
	for _, q := range []string{queue.Replies, queue.Proactive, queue.Bulk} {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			continue // a queue never used
		}
		n += info.Pending + info.Active + info.Scheduled + info.Retry + info.Aggregating
	}
	return n
}
