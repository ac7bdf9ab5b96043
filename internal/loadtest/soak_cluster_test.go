package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/apptest"
)

// The soak's deployment: a Postgres and a Redis of its own (started here on
// free ports, in a temporary directory, so restarting, flushing or killing
// them touches nobody else's tests), two `parley serve --worker=false` web
// processes behind a round-robin balancer, and two `parley worker`
// processes, all sharing that Postgres and that Redis, as on Fly.

// pgServer is a private Postgres cluster run as a child process.
type pgServer struct {
	bin, dir string // binaries; the cluster's directory (data and socket)
	port     int
	cred     *syscall.Credential // the postgres user's, when this runs as root (initdb refuses root)
	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan error
	log      *bytes.Buffer
}

// startPostgres initialises a cluster in a new temporary directory and
// starts it on a free loopback port; it is stopped and removed when tb ends.
func startPostgres(tb testing.TB) *pgServer {
	tb.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		tb.Fatal("soak: no initdb under /usr/lib/postgresql/*/bin (Debian's postgresql package)")
	}
	sort.Strings(bins)
	p := &pgServer{bin: filepath.Dir(bins[len(bins)-1]), port: freePort(tb), log: &bytes.Buffer{}}
	dir, err := os.MkdirTemp("", "parley-soak-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	p.dir = dir
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("soak: running as root needs the postgres user for initdb: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	initdb := exec.Command(filepath.Join(p.bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("soak: initdb: %v\n%s", err, out)
	}
	p.start(tb)
	tb.Cleanup(func() { p.stop(tb, syscall.SIGINT) })
	return p
}

// url is a connection URL to database db of the private cluster.
func (p *pgServer) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

func (p *pgServer) start(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	// fsync off: the soak is about Parley's behaviour, not the disk; a fast
	// shutdown (the restart fault) still checkpoints cleanly.
	cmd := exec.Command(filepath.Join(p.bin, "postgres"), "-D", filepath.Join(p.dir, "data"), "-p", strconv.Itoa(p.port),
		"-k", p.dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=400", "-c", "fsync=off",
		"-c", "full_page_writes=off", "-c", "shared_buffers=256MB", "-c", "log_min_messages=warning")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	lw := &lockedWriter{w: p.log}
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		tb.Fatalf("soak: start postgres: %v", err)
	}
	p.cmd, p.done = cmd, make(chan error, 1)
	go func(done chan error) { done <- cmd.Wait() }(p.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(context.Background(), p.url("postgres"))
		if err == nil {
			_ = conn.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("soak: postgres not up after 30 s: %v\n%s", err, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the cluster down with sig (SIGINT: fast shutdown) and waits.
func (p *pgServer) stop(tb testing.TB, sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		tb.Logf("soak: postgres did not stop within 60 s; killed")
	}
}

// restart is the "Postgres restarted" fault: a fast shutdown, down for
// `down`, then up again on the same port.
func (p *pgServer) restart(tb testing.TB, down time.Duration) {
	tb.Helper()
	p.stop(tb, syscall.SIGINT)
	time.Sleep(down)
	p.start(tb)
}

// redisServer is a private Redis run as a child process, with an
// append-only file so a restart keeps what it held (a flush is its own fault).
type redisServer struct {
	dir  string
	port int
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
	log  *bytes.Buffer
}

func startRedis(tb testing.TB) *redisServer {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatal("soak: redis-server not found (Debian's redis-server package)")
	}
	r := &redisServer{dir: tb.TempDir(), port: freePort(tb), log: &bytes.Buffer{}}
	r.start(tb)
	tb.Cleanup(func() { r.stop(tb) })
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start(tb testing.TB) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no", "--loglevel", "warning")
	lw := &lockedWriter{w: r.log}
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		tb.Fatalf("soak: start redis: %v", err)
	}
	r.cmd, r.done = cmd, make(chan error, 1)
	go func(done chan error) { done <- cmd.Wait() }(r.done)
	c := r.client()
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			tb.Fatalf("soak: redis not up after 20 s\n%s", r.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), MaxRetries: -1})
}

// stop is a graceful shutdown (SIGTERM: Redis writes its append-only file).
func (r *redisServer) stop(tb testing.TB) {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		tb.Logf("soak: redis did not stop within 30 s; killed")
	}
}

// restart is the "Redis restarted" fault.
func (r *redisServer) restart(tb testing.TB, down time.Duration) {
	tb.Helper()
	r.stop(tb)
	time.Sleep(down)
	r.start(tb)
}

// flush is the "Redis flushed" fault: every key gone, queues included.
func (r *redisServer) flush(tb testing.TB) {
	tb.Helper()
	c := r.client()
	defer c.Close()
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		tb.Fatalf("soak: FLUSHALL: %v", err)
	}
}

// freePort is a loopback TCP port nobody listens on right now.
func freePort(tb testing.TB) int {
	tb.Helper()
	_, port, _ := net.SplitHostPort(freeAddr(tb))
	n, _ := strconv.Atoi(port)
	return n
}

// balancer is the load balancer in front of the web processes: round
// robin, and a backend that refuses the connection (killed, restarting) is
// skipped for the next, as a platform's proxy does. A request the backend
// took and then dropped is answered 502, which the load generator treats as
// Twilio does a failed webhook it will deliver again.
type balancer struct {
	mu       sync.Mutex
	backends []string // base URLs
	next     atomic.Uint64
	client   *http.Client
	srv      *http.Server
	url      string
}

func startBalancer(tb testing.TB) *balancer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	b := &balancer{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: "http://" + ln.Addr().String()}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	tb.Cleanup(func() { _ = b.srv.Close(); tr.CloseIdleConnections() })
	return b
}

func (b *balancer) set(backends []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append([]string(nil), backends...)
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	backends := b.backends
	b.mu.Unlock()
	first := int(b.next.Add(1))
	for i := range backends {
		base := backends[(first+i)%len(backends)]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			if refused(err) {
				continue // never reached the process: try the next
			}
			http.Error(w, "balancer: "+err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "balancer: no web process up", http.StatusBadGateway)
}

// refused reports a dial failure: the request never reached a process.
func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED)
}

// proc is one parley process of the soak, restartable under the same
// address and environment.
type proc struct {
	name, bin string
	addr      string // web: PARLEY_ADDR; worker: "" (no HTTP)
	pprof     string // PARLEY_PPROF_ADDR, for goroutine counts
	env       []string
	args      []string

	mu     sync.Mutex // cur and starts, which a restart changes while the sampler reads them
	cur    *child
	starts int
}

// current is the running child and its incarnation's name.
func (p *proc) current() (*child, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur, fmt.Sprintf("%s#%d", p.name, p.starts)
}

// run starts (or restarts) the process and waits until it is ready: a web
// process when /healthz answers, a worker when it logs that it runs.
func (p *proc) run(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	p.starts++
	name := fmt.Sprintf("%s#%d", p.name, p.starts)
	p.mu.Unlock()
	env := append(append([]string(nil), p.env...), "PARLEY_PPROF_ADDR="+p.pprof)
	if p.addr != "" {
		c := start(tb, name, p.bin, p.addr, append(env, "PARLEY_ADDR="+p.addr), p.args...)
		p.mu.Lock()
		p.cur = c
		p.mu.Unlock()
		return
	}
	c := &child{name: name, log: &bytes.Buffer{}, done: make(chan error, 1)}
	c.cmd = exec.Command(p.bin, p.args...)
	c.cmd.Env = append(os.Environ(), env...)
	lw := &lockedWriter{w: c.log}
	c.cmd.Stdout, c.cmd.Stderr = lw, lw
	if err := c.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", c.name, err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	tb.Cleanup(func() { c.stop(tb) })
	p.mu.Lock()
	p.cur = c
	p.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(c.logText(), "worker running") {
		select {
		case err := <-c.done:
			c.done <- err
			tb.Fatalf("%s exited before it ran: %v\n%s", c.name, err, c.logText())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s not running after 30 s\n%s", c.name, c.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill is kill -9: no shutdown, no cleanup, claims and leases left behind.
func (p *proc) kill() {
	c, _ := p.current()
	if c == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	err := <-c.done
	c.done <- err
}

// sample is one process's memory and goroutines at one moment.
type sample struct {
	at         time.Time
	rssKB      int
	goroutines int
	// pooled are the goroutines of idle HTTP connections kept for reuse
	// (two per connection, until the transport's idle timeout): a pool,
	// not a leak.
	pooled int
}

// sample reads VmRSS from /proc and the goroutine count from the process's
// profiler (PARLEY_PPROF_ADDR); -1 when it cannot be read.
func (p *proc) sample() (string, sample) {
	s := sample{at: time.Now(), rssKB: -1, goroutines: -1}
	c, name := p.current()
	if c == nil || c.cmd.Process == nil {
		return name, s
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				s.rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
	}
	hc := http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + p.pprof + "/debug/pprof/goroutine?debug=1")
	if err == nil {
		prof, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		s.goroutines, s.pooled = countGoroutines(string(prof))
	}
	return name, s
}

// countGoroutines reads a goroutine profile (debug=1): the total, and how
// many wait in an HTTP connection's read or write loop (the pooled).
func countGoroutines(prof string) (total, pooled int) {
	head, rest, _ := strings.Cut(prof, "\n")
	v, ok := strings.CutPrefix(head, "goroutine profile: total ")
	if !ok {
		return -1, 0
	}
	total, _ = strconv.Atoi(strings.TrimSpace(v))
	for _, rec := range strings.Split(rest, "\n\n") {
		rec = strings.TrimSpace(rec)
		n, _, ok := strings.Cut(rec, " @ ")
		if !ok {
			continue
		}
		if strings.Contains(rec, "net/http.(*persistConn).readLoop") || strings.Contains(rec, "net/http.(*persistConn).writeLoop") {
			c, _ := strconv.Atoi(n)
			pooled += c
		}
	}
	return total, pooled
}

// cluster is the whole soak deployment.
type cluster struct {
	pg      *pgServer
	redis   *redisServer
	lb      *balancer
	fake    *fakeCarrier
	bin     string
	dbURL   string
	apiKey  string
	web     []*proc
	workers []*proc
	dir     string
}

// soakNumbers are the brand's sender numbers; each sends at most mps.
func soakNumbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1500555%04d", 1000+i)
	}
	return out
}

// startCluster builds the binary, starts Postgres, Redis, the fake
// carrier, the balancer and the four processes, and creates the brand
// (numbers at mps each) and an API key through the CLI.
func startCluster(tb testing.TB, numbers, mps int) *cluster {
	tb.Helper()
	c := &cluster{dir: tb.TempDir()}
	built := make(chan string, 1)
	go func() { built <- buildParleyOrErr(c.dir) }()
	c.pg = startPostgres(tb)
	c.redis = startRedis(tb)
	c.lb = startBalancer(tb)
	c.fake = newFakeCarrier(tb, c.lb.url)
	if msg := <-built; msg != "" {
		tb.Fatal(msg)
	}
	c.bin = filepath.Join(c.dir, "parley")
	conn, err := pgx.Connect(context.Background(), c.pg.url("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "CREATE DATABASE parley"); err != nil {
		tb.Fatal(err)
	}
	_ = conn.Close(context.Background())
	c.dbURL = c.pg.url("parley")
	dbEnv := []string{"DATABASE_URL=" + c.dbURL}
	runCLI(tb, c.bin, dbEnv, "migrate")
	args := []string{"brand", "add", "--slug", "demo-air", "--name", "Demo Air", "--mps", strconv.Itoa(mps)}
	for _, n := range append([]string{apptest.BrandNumber}, soakNumbers(numbers)...) {
		args = append(args, "--number", n)
	}
	runCLI(tb, c.bin, dbEnv, args...)
	out := strings.Fields(runCLI(tb, c.bin, dbEnv, "apikey", "add", "--name", "soak", "--rate", "100000"))
	c.apiKey = out[len(out)-1]
	env := append(dbEnv, "REDIS_URL="+c.redis.url(), "PARLEY_PUBLIC_URL="+c.lb.url,
		"TWILIO_ACCOUNT_SID="+apptest.AccountSID, "TWILIO_AUTH_TOKEN="+apptest.AuthToken, "TWILIO_API_URL="+c.fake.URL())
	var backends []string
	for i := 0; i < 2; i++ {
		spool := filepath.Join(c.dir, fmt.Sprintf("spool-%d", i))
		if err := os.MkdirAll(spool, 0o755); err != nil {
			tb.Fatal(err)
		}
		w := &proc{name: fmt.Sprintf("web-%d", i+1), bin: c.bin, addr: freeAddr(tb), pprof: freeAddr(tb),
			env: append(append([]string(nil), env...), "PARLEY_SPOOL_DIR="+spool), args: []string{"serve", "--worker=false"}}
		c.web = append(c.web, w)
		backends = append(backends, "http://"+w.addr)
		k := &proc{name: fmt.Sprintf("worker-%d", i+1), bin: c.bin, pprof: freeAddr(tb), env: env, args: []string{"worker"}}
		c.workers = append(c.workers, k)
	}
	c.lb.set(backends)
	for _, p := range c.procs() {
		p.run(tb)
	}
	return c
}

func (c *cluster) procs() []*proc { return append(append([]*proc(nil), c.web...), c.workers...) }

// buildParleyOrErr is buildParley for a goroutine: "" or what went wrong.
func buildParleyOrErr(dir string) string {
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "parley"), "github.com/parleyhq/parley/cmd/parley").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("go build ./cmd/parley: %v\n%s", err, out)
	}
	return ""
}

// dumpGoroutines writes each worker's goroutine profile (debug=2, every
// stack) beside SOAK_REPORT, so a text stalled under a live worker can be
// traced to where its handler waits. Long runs only.
func (s *soak) dumpGoroutines(when string) {
	report := os.Getenv("SOAK_REPORT")
	if !s.plan.long || report == "" {
		return
	}
	hc := http.Client{Timeout: 10 * time.Second}
	for _, p := range s.c.workers {
		resp, err := hc.Get("http://" + p.pprof + "/debug/pprof/goroutine?debug=2")
		if err != nil {
			s.t.Logf("soak: goroutines of %s: %v", p.name, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		path := strings.TrimSuffix(report, ".md") + "-" + p.name + "-" + when + ".goroutines"
		if err := os.WriteFile(path, b, 0o600); err != nil {
			s.t.Logf("soak: %v", err)
		}
	}
}
