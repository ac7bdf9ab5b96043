package queue_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/queue"
)

func TestParseRedisURL(t *testing.T) {
	t.Parallel()
	good := []struct {
		url      string
		sentinel bool
	}{
		{"redis://127.0.0.1:6379/0", false},
		{"rediss://:secret@cache.internal:6380/3", false},
		{"redis-sentinel://127.0.0.1:26379?master=parley", true},
		{"redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/2?master=parley&sentinel_password=s", true},
	}
	for _, c := range good {
		conn, err := queue.ParseRedisURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if conn.Sentinel() != c.sentinel {
			t.Errorf("%s: Sentinel() = %v", c.url, conn.Sentinel())
		}
	}
	f, _ := queue.ParseRedisURL("redis-sentinel://u:pw@10.0.0.1:26379,10.0.0.2:26379/2?master=parley&sentinel_password=s")
	opt, ok := f.Asynq().(asynq.RedisFailoverClientOpt)
	if !ok {
		t.Fatalf("Asynq() = %T, want the failover options", f.Asynq())
	}
	if opt.MasterName != "parley" || strings.Join(opt.SentinelAddrs, ",") != "10.0.0.1:26379,10.0.0.2:26379" ||
		opt.DB != 2 || opt.Username != "u" || opt.Password != "pw" || opt.SentinelPassword != "s" {
		t.Errorf("failover options = %+v", opt)
	}
	same, _ := queue.ParseRedisURL("redis-sentinel://:pw@10.0.0.1:26379?master=parley")
	if o := same.Asynq().(asynq.RedisFailoverClientOpt); o.SentinelPassword != "pw" {
		t.Errorf("sentinel password = %q, want the URL's password", o.SentinelPassword)
	}
	bad := map[string]string{
		"redis-sentinel://127.0.0.1:26379":                  "master",
		"redis-sentinel://127.0.0.1?master=m":               "host:port",
		"redis-sentinel://127.0.0.1:0?master=m":             "port",
		"redis-sentinel://127.0.0.1:26379/x?master=m":       "database",
		"redis-sentinel://a:1,:2?master=m":                  "host:port",
		"redis://127.0.0.1:6379/notanumber":                 "",
		"postgres://127.0.0.1:5432/x":                       "",
		"redis-sentinel://127.0.0.1:26379/-1?master=parley": "database",
	}
	for u, want := range bad {
		_, err := queue.ParseRedisURL(u)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one naming %q", u, err, want)
		}
	}
}

// TestSentinelFailover runs a master, its replica and one sentinel of their
// own (never the shared test Redis), and shows that a client made from a
// redis-sentinel:// URL finds the master, that asynq enqueues through it, and
// that after a failover the same client writes to the new master.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sentinel, master := apptest.StartSentinel(t, dir, "parley")
	replica := apptest.StartRedis(t, dir, "replica", fmt.Sprintf("replicaof 127.0.0.1 %d\n", master))
	ctx := context.Background()
	rc := apptest.RedisClient(t, replica, 0)
	waitUntil(t, 30*time.Second, "the replica in sync", func() bool {
		info, err := rc.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})

	conn, err := queue.ParseRedisURL(fmt.Sprintf("redis-sentinel://127.0.0.1:%d/3?master=parley", sentinel))
	if err != nil {
		t.Fatal(err)
	}
	rdb := conn.Client(4)
	defer rdb.Close()
	if err := rdb.Set(ctx, "parley:sentinel-test", "before", 0).Err(); err != nil {
		t.Fatalf("write through the sentinel: %v", err)
	}
	if v, _ := apptest.RedisClient(t, master, 3).Get(ctx, "parley:sentinel-test").Result(); v != "before" {
		t.Fatalf("the master holds %q, want the write made through the sentinel", v)
	}
	ac := asynq.NewClient(conn.Asynq())
	defer ac.Close()
	if _, err := ac.Enqueue(asynq.NewTask("sentinel:test", nil), asynq.Queue("sentinel-test")); err != nil {
		t.Fatalf("asynq enqueue through the sentinel: %v", err)
	}
	if n, _ := apptest.RedisClient(t, master, 3).LLen(ctx, "asynq:{sentinel-test}:pending").Result(); n != 1 {
		t.Fatalf("asynq's pending list on the master holds %d tasks, want 1", n)
	}

	// The sentinel learns of the replica from the master's INFO; until then
	// it answers NOGOODREPLICA.
	sc := apptest.RedisClient(t, sentinel, 0)
	waitUntil(t, 30*time.Second, "the sentinel to start a failover", func() bool {
		return sc.Do(ctx, "SENTINEL", "FAILOVER", "parley").Err() == nil
	})
	rc3 := apptest.RedisClient(t, replica, 3)
	n := 0
	waitUntil(t, 60*time.Second, "the client writing to the promoted replica", func() bool {
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "role:master") {
			return false
		}
		// A write may still reach the old master while the sentinel
		// reconfigures it; the client must end on the new one.
		n++
		v := "after-" + strconv.Itoa(n)
		if rdb.Set(ctx, "parley:sentinel-test", v, 0).Err() != nil {
			return false
		}
		got, _ := rc3.Get(ctx, "parley:sentinel-test").Result()
		return got == v
	})
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
