// Package config reads Parley's settings from the environment and checks them
// once at start, so that a bad value stops the program with one clear line
// instead of failing later in a request.
package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is every setting Parley reads from the environment.
type Config struct {
	DatabaseURL       string // DATABASE_URL: Postgres, the system of record
	ReplicaURL        string // DATABASE_REPLICA_URL: optional read replica the analytics read from
	RedisURL          string // REDIS_URL: the asynq queue and shared rate limits
	Addr              string // PARLEY_ADDR: where the HTTP server listens
	PublicURL         string // PARLEY_PUBLIC_URL: the base URL Twilio sees (signatures, callbacks)
	TwilioAccountSID  string // TWILIO_ACCOUNT_SID
	TwilioAuthToken   string // TWILIO_AUTH_TOKEN: signs webhooks and authenticates REST calls
	TwilioAPIURL      string // TWILIO_API_URL: optional base URL of the Twilio REST API (a fake in tests)
	SpoolDir          string // PARLEY_SPOOL_DIR: durable spool for webhooks received while Postgres is down
	PprofAddr         string // PARLEY_PPROF_ADDR: optional loopback host:port serving Go's profiler (off when empty)
	MetricsAddr       string // PARLEY_METRICS_ADDR: optional host:port where `parley worker` serves /metrics and health
	RequireTwilioAuth bool   // false only for `parley dev`, which uses the simulator carrier
	// TrustedProxies (PARLEY_TRUSTED_PROXIES, comma-separated CIDRs) are the
	// proxies whose X-Forwarded-For is believed; none by default, so a
	// client's address is the TCP peer's.
	TrustedProxies []*net.IPNet
	// OnFly (FLY_APP_NAME is set): the client's address is Fly's
	// Fly-Client-IP header, which Fly's proxy sets on every request.
	OnFly bool
	// MetricsToken (PARLEY_METRICS_TOKEN): when set, GET /metrics needs
	// "Authorization: Bearer <token>".
	MetricsToken string
	// AuditRetention (PARLEY_AUDIT_RETENTION, e.g. "365d" or "8760h"): how
	// long the audit log keeps entries; 0 (the default) keeps them forever.
	AuditRetention time.Duration
}

// Needs says which groups of settings a subcommand uses, so that `parley migrate`
// does not demand Twilio credentials.
type Needs struct {
	Database bool
	Redis    bool
	HTTP     bool // PARLEY_ADDR, PARLEY_PUBLIC_URL, PARLEY_SPOOL_DIR
	Twilio   bool
}

var alnum = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// FromEnv reads the settings through getenv (os.Getenv in production) and
// validates the groups in need. The error names the variable and what is wrong.
func FromEnv(getenv func(string) string, need Needs) (Config, error) {
	c := Config{
		DatabaseURL:       strings.TrimSpace(getenv("DATABASE_URL")),
		ReplicaURL:        strings.TrimSpace(getenv("DATABASE_REPLICA_URL")),
		RedisURL:          strings.TrimSpace(getenv("REDIS_URL")),
		Addr:              strings.TrimSpace(getenv("PARLEY_ADDR")),
		PublicURL:         strings.TrimRight(strings.TrimSpace(getenv("PARLEY_PUBLIC_URL")), "/"),
		TwilioAccountSID:  strings.TrimSpace(getenv("TWILIO_ACCOUNT_SID")),
		TwilioAuthToken:   strings.TrimSpace(getenv("TWILIO_AUTH_TOKEN")),
		TwilioAPIURL:      strings.TrimRight(strings.TrimSpace(getenv("TWILIO_API_URL")), "/"),
		SpoolDir:          strings.TrimSpace(getenv("PARLEY_SPOOL_DIR")),
		PprofAddr:         strings.TrimSpace(getenv("PARLEY_PPROF_ADDR")),
		MetricsAddr:       strings.TrimSpace(getenv("PARLEY_METRICS_ADDR")),
		RequireTwilioAuth: need.Twilio,
		OnFly:             strings.TrimSpace(getenv("FLY_APP_NAME")) != "",
		MetricsToken:      strings.TrimSpace(getenv("PARLEY_METRICS_TOKEN")),
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	proxies, err := ParseCIDRs(getenv("PARLEY_TRUSTED_PROXIES"))
	if err != nil {
		return c, fmt.Errorf("PARLEY_TRUSTED_PROXIES: %v", err)
	}
	c.TrustedProxies = proxies
	if c.AuditRetention, err = ParseRetention(getenv("PARLEY_AUDIT_RETENTION")); err != nil {
		return c, fmt.Errorf("PARLEY_AUDIT_RETENTION: %v", err)
	}
	return c, c.Validate(need)
}

// ParseRetention reads a retention: days ("365d") or a Go duration
// ("8760h"); empty is 0 (forever).
func ParseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a number of days (e.g. 365d)", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Hour {
		return 0, fmt.Errorf("%q is not a retention of an hour or more (e.g. 365d or 8760h)", v)
	}
	return d, nil
}

// ParseCIDRs reads a comma-separated list of CIDRs (a bare address is one
// host: /32 or /128).
func ParseCIDRs(v string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR (e.g. 10.0.0.0/8)", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR (e.g. 10.0.0.0/8)", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// Validate checks the settings a subcommand needs.
func (c Config) Validate(need Needs) error {
	if need.Database {
		if err := checkURL("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql"); err != nil {
			return err
		}
		if c.ReplicaURL != "" {
			if err := checkURL("DATABASE_REPLICA_URL", c.ReplicaURL, "postgres", "postgresql"); err != nil {
				return err
			}
		}
	}
	if need.Redis {
		if err := checkURL("REDIS_URL", c.RedisURL, "redis", "rediss", "redis-sentinel"); err != nil {
			return err
		}
	}
	if need.HTTP {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return fmt.Errorf("PARLEY_ADDR: %q is not host:port (e.g. :8080)", c.Addr)
		}
		if err := checkURL("PARLEY_PUBLIC_URL", c.PublicURL, "http", "https"); err != nil {
			return err
		}
		if u, _ := url.Parse(c.PublicURL); u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("PARLEY_PUBLIC_URL: must not have a query or fragment")
		}
		if c.SpoolDir == "" {
			return fmt.Errorf("PARLEY_SPOOL_DIR: missing (a directory for the durable webhook spool)")
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("PARLEY_METRICS_ADDR: %q is not host:port (e.g. :9091)", c.MetricsAddr)
		}
	}
	if c.PprofAddr != "" {
		// The profiler shows memory and command lines: never on a public address.
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if err != nil {
			return fmt.Errorf("PARLEY_PPROF_ADDR: %q is not host:port (e.g. 127.0.0.1:6060)", c.PprofAddr)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("PARLEY_PPROF_ADDR: %q must be a loopback address (127.0.0.1, ::1 or localhost)", c.PprofAddr)
		}
	}
	if need.Twilio {
		if c.TwilioAccountSID == "" {
			return fmt.Errorf("TWILIO_ACCOUNT_SID: missing")
		}
		if !strings.HasPrefix(c.TwilioAccountSID, "AC") || len(c.TwilioAccountSID) != 34 || !alnum.MatchString(c.TwilioAccountSID) {
			return fmt.Errorf("TWILIO_ACCOUNT_SID: must be AC followed by 32 letters or digits")
		}
		if c.TwilioAuthToken == "" {
			return fmt.Errorf("TWILIO_AUTH_TOKEN: missing")
		}
		if !alnum.MatchString(c.TwilioAuthToken) {
			return fmt.Errorf("TWILIO_AUTH_TOKEN: must contain only letters and digits")
		}
		if c.TwilioAPIURL != "" {
			if err := checkURL("TWILIO_API_URL", c.TwilioAPIURL, "http", "https"); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkURL(name, v string, schemes ...string) error {
	if v == "" {
		return fmt.Errorf("%s: missing", name)
	}
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%s: not a URL: %v", name, err)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if u.Host == "" {
				return fmt.Errorf("%s: no host in %q", name, redact(u))
			}
			return nil
		}
	}
	return fmt.Errorf("%s: scheme must be %s, got %q", name, strings.Join(schemes, " or "), u.Scheme)
}

// redact hides a password so that an error message never prints it.
func redact(u *url.URL) string {
	return u.Redacted()
}
