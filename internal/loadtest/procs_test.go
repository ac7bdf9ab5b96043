package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store/storetest"
)

// baselineEnv, when set, makes this test binary run the baseline server
// instead of the benchmarks (see TestMain): the baseline is a separate process
// like `parley serve`, so both sides pay the same loopback HTTP, scheduling and
// runtime costs and the ratio compares only what each does per request.
const baselineEnv = "PARLEY_LOADTEST_BASELINE_DB"

func TestMain(m *testing.M) {
	if db := os.Getenv(baselineEnv); db != "" {
		if err := runBaseline(db, os.Getenv("PARLEY_ADDR")); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runBaseline is the yardstick: bare net/http, parse the form, one
// INSERT … ON CONFLICT DO NOTHING (storetest.Baseline, the same the in-process
// webhook benchmark uses). It runs until SIGTERM.
func runBaseline(dbURL, addr string) error {
	ctx := context.Background()
	base, err := storetest.NewBaseline(ctx, dbURL)
	if err != nil {
		return err
	}
	defer base.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST "+smsPath, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := r.PostForm
		if err := base.Insert(r.Context(), f.Get("MessageSid"), f.Get("From"), f.Get("To"), f.Get("Body")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	go func() { <-stop; _ = srv.Close() }()
	signalNotify(stop)
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// child is a started server process.
type child struct {
	name string
	cmd  *exec.Cmd
	url  string
	log  *bytes.Buffer
	done chan error
}

// buildParley compiles ./cmd/parley into dir, as `make build` does.
func buildParley(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "parley")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/parleyhq/parley/cmd/parley").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build ./cmd/parley: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runCLI runs the binary once (e.g. `parley brand add`) and fails tb on error.
func runCLI(tb testing.TB, bin string, env []string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("parley %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start runs bin with args and env, waits until GET addr/healthz answers 200,
// and stops the process (SIGTERM, then kill) when tb ends.
func start(tb testing.TB, name, bin, addr string, env []string, args ...string) *child {
	tb.Helper()
	c := &child{name: name, url: "http://" + addr, log: &bytes.Buffer{}, done: make(chan error, 1)}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Env = append(os.Environ(), env...)
	lw := &lockedWriter{w: c.log} // one writer for both: exec serialises its writes
	c.cmd.Stdout, c.cmd.Stderr = lw, lw
	if err := c.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	tb.Cleanup(func() { c.stop(tb) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(c.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		select {
		case err := <-c.done:
			c.done <- err
			tb.Fatalf("%s exited before it was healthy: %v\n%s", name, err, c.logText())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s not healthy after 30 s\n%s", name, c.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *child) logText() string {
	lw := c.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	s := c.log.String()
	if len(s) > 8000 {
		s = "…" + s[len(s)-8000:]
	}
	return s
}

func (c *child) stop(tb testing.TB) {
	if c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		tb.Logf("%s did not stop within 30 s of SIGTERM; killed", c.name)
	}
}
