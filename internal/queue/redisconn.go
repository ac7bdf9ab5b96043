package queue

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// SentinelScheme is REDIS_URL's scheme for a Redis found through Sentinel:
//
//	redis-sentinel://[:password@]host1:port[,host2:port…][/db]?master=name[&sentinel_password=…]
//
// the form asynq accepts, plus an optional database and a separate password
// for the sentinels. The password is the master's and, unless
// sentinel_password is given, the sentinels' too.
const SentinelScheme = "redis-sentinel"

// RedisConn is a parsed REDIS_URL: one Redis server, or a master found and
// followed through its sentinels. Every Parley connection to Redis (the
// queue, the rate limiters, the queue monitor) is made from it, so a
// failover moves all of them to the new master.
type RedisConn struct {
	single   *redis.Options
	failover *redis.FailoverOptions
}

// ParseRedisURL reads a redis://, rediss:// or redis-sentinel:// URL.
func ParseRedisURL(raw string) (RedisConn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return RedisConn{}, fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != SentinelScheme {
		o, err := redis.ParseURL(raw)
		if err != nil {
			return RedisConn{}, err
		}
		return RedisConn{single: o}, nil
	}
	q := u.Query()
	f := &redis.FailoverOptions{MasterName: q.Get("master")}
	if f.MasterName == "" {
		return RedisConn{}, fmt.Errorf("%s: the master's name is missing (?master=…)", SentinelScheme)
	}
	for _, h := range strings.Split(u.Host, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return RedisConn{}, fmt.Errorf("%s: sentinel %q is not host:port", SentinelScheme, h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return RedisConn{}, fmt.Errorf("%s: sentinel %q has no valid port", SentinelScheme, h)
		}
		f.SentinelAddrs = append(f.SentinelAddrs, h)
	}
	if u.User != nil {
		f.Username = u.User.Username()
		f.Password, _ = u.User.Password()
	}
	f.SentinelPassword = f.Password
	if q.Has("sentinel_password") {
		f.SentinelPassword = q.Get("sentinel_password")
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if f.DB, err = strconv.Atoi(db); err != nil || f.DB < 0 {
			return RedisConn{}, fmt.Errorf("%s: database %q is not a number", SentinelScheme, db)
		}
	}
	return RedisConn{failover: f}, nil
}

// Sentinel reports whether the connection follows a master through Sentinel.
func (c RedisConn) Sentinel() bool { return c.failover != nil }

// Client opens a pool of at least poolSize connections (0 keeps the URL's or
// the default size).
func (c RedisConn) Client(poolSize int) *redis.Client {
	if c.failover != nil {
		f := *c.failover
		f.PoolSize = max(f.PoolSize, poolSize)
		return redis.NewFailoverClient(&f)
	}
	o := *c.single
	o.PoolSize = max(o.PoolSize, poolSize)
	return redis.NewClient(&o)
}

// Asynq is the same connection as asynq's options, for components that open
// their own (the queue monitor).
func (c RedisConn) Asynq() asynq.RedisConnOpt {
	if f := c.failover; f != nil {
		return asynq.RedisFailoverClientOpt{MasterName: f.MasterName, SentinelAddrs: f.SentinelAddrs,
			SentinelPassword: f.SentinelPassword, Username: f.Username, Password: f.Password, DB: f.DB}
	}
	o := c.single
	return asynq.RedisClientOpt{Network: o.Network, Addr: o.Addr, Username: o.Username, Password: o.Password,
		DB: o.DB, TLSConfig: o.TLSConfig}
}
