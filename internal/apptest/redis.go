package apptest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartRedis runs a redis-server of the test's own (never the shared test
// Redis) on a free port until the test ends, and returns the port. conf is
// its configuration file's text; args are further command-line options
// ("--sentinel" for a sentinel).
func StartRedis(t testing.TB, dir, name, conf string, args ...string) int {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("apptest: redis-server not installed (scripts/services.sh installs it)")
	}
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		file := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil { // a sentinel rewrites its file
			t.Fatal(err)
		}
		all := append([]string{file, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, name+".log"),
			"--dbfilename", name + ".rdb"}, args...)
		cmd := exec.Command(bin, all...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		up := false
		for end := time.Now().Add(15 * time.Second); time.Now().Before(end) && !up; time.Sleep(20 * time.Millisecond) {
			c := dialRedis(port, 0)
			up = c.Ping(context.Background()).Err() == nil
			_ = c.Close()
		}
		if up {
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return port
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if attempt == 4 { // the port was taken between Close and the server's bind, five times
			log, _ := os.ReadFile(filepath.Join(dir, name+".log"))
			t.Fatalf("apptest: %s did not start: %s", name, log)
		}
	}
}

// StartSentinel runs a Redis master and one sentinel watching it (quorum 1),
// both the test's own, and returns the sentinel's and the master's ports.
func StartSentinel(t testing.TB, dir, master string) (sentinel, masterPort int) {
	t.Helper()
	masterPort = StartRedis(t, dir, "master", "")
	sentinel = StartRedis(t, dir, "sentinel", fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds %[1]s 2000\nsentinel failover-timeout %[1]s 10000\n", master, masterPort), "--sentinel")
	return sentinel, masterPort
}

// RedisClient is a plain connection to one server of the test's, closed when
// the test ends.
func RedisClient(t testing.TB, port, db int) *redis.Client {
	c := dialRedis(port, db)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func dialRedis(port, db int) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), DB: db, MaxRetries: -1,
		DialTimeout: time.Second})
}
