package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func good() map[string]string {
	return map[string]string{
		"DATABASE_URL":       "postgres://postgres@127.0.0.1:5432/parley?sslmode=disable",
		"REDIS_URL":          "redis://127.0.0.1:6379/0",
		"PARLEY_PUBLIC_URL":  "https://parley.example.com/",
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":  "0123456789abcdef0123456789abcdef",
		"PARLEY_SPOOL_DIR":   "/data/spool",
	}
}

var all = Needs{Database: true, Redis: true, HTTP: true, Twilio: true}

func TestFromEnvGood(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(good()), all)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.PublicURL != "https://parley.example.com" || c.PprofAddr != "" {
		t.Fatalf("defaults: addr %q public %q pprof %q", c.Addr, c.PublicURL, c.PprofAddr)
	}
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060"} {
		m := good()
		m["PARLEY_PPROF_ADDR"] = addr
		if _, err := FromEnv(env(m), all); err != nil {
			t.Errorf("PARLEY_PPROF_ADDR=%s: %v", addr, err)
		}
	}
}

func TestFromEnvErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, val, want string }{
		{"DATABASE_URL", "", "DATABASE_URL: missing"},
		{"DATABASE_URL", "mysql://x/y", "DATABASE_URL: scheme must be postgres"},
		{"REDIS_URL", "localhost:6379", "REDIS_URL: scheme"},
		{"PARLEY_ADDR", "8080", "PARLEY_ADDR"},
		{"PARLEY_PUBLIC_URL", "", "PARLEY_PUBLIC_URL: missing"},
		{"PARLEY_PUBLIC_URL", "parley.example.com", "PARLEY_PUBLIC_URL"},
		{"PARLEY_PUBLIC_URL", "https://p.example.com/?x=1", "PARLEY_PUBLIC_URL: must not have a query"},
		{"PARLEY_SPOOL_DIR", "", "PARLEY_SPOOL_DIR: missing"},
		{"TWILIO_ACCOUNT_SID", "", "TWILIO_ACCOUNT_SID: missing"},
		{"TWILIO_ACCOUNT_SID", "AC123", "TWILIO_ACCOUNT_SID: must be AC"},
		{"TWILIO_AUTH_TOKEN", "", "TWILIO_AUTH_TOKEN: missing"},
		{"TWILIO_AUTH_TOKEN", "abc-def", "TWILIO_AUTH_TOKEN: must contain only letters and digits"},
		{"TWILIO_API_URL", "ftp://x", "TWILIO_API_URL: scheme"},
		{"PARLEY_PPROF_ADDR", ":6060", "PARLEY_PPROF_ADDR: \":6060\" must be a loopback address"},
		{"PARLEY_PPROF_ADDR", "0.0.0.0:6060", "PARLEY_PPROF_ADDR: \"0.0.0.0:6060\" must be a loopback address"},
		{"PARLEY_PPROF_ADDR", "10.0.0.5:6060", "PARLEY_PPROF_ADDR: \"10.0.0.5:6060\" must be a loopback address"},
		{"PARLEY_PPROF_ADDR", "6060", "PARLEY_PPROF_ADDR: \"6060\" is not host:port"},
	}
	for _, tt := range tests {
		m := good()
		m[tt.key] = tt.val
		_, err := FromEnv(env(m), all)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s=%q: error %v, want prefix %q", tt.key, tt.val, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", tt.key, err)
		}
	}
}

// A subcommand is only asked for what it uses: migrate needs no Twilio.
func TestNeeds(t *testing.T) {
	t.Parallel()
	m := map[string]string{"DATABASE_URL": "postgres://localhost/x"}
	if _, err := FromEnv(env(m), Needs{Database: true}); err != nil {
		t.Fatalf("migrate should need only DATABASE_URL: %v", err)
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	m := good()
	m["DATABASE_URL"] = "postgres://user:s3cret@/db"
	_, err := FromEnv(env(m), all)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %v must not print the password", err)
	}
}

func TestTrustedProxiesAndMetricsToken(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(good()), all)
	if err != nil || len(c.TrustedProxies) != 0 || c.OnFly || c.MetricsToken != "" {
		t.Fatalf("defaults: proxies %v fly %v token %q err %v", c.TrustedProxies, c.OnFly, c.MetricsToken, err)
	}
	m := good()
	m["PARLEY_TRUSTED_PROXIES"] = " 10.0.0.0/8, 192.0.2.1 ,fd00::/8"
	m["FLY_APP_NAME"] = "parley"
	m["PARLEY_METRICS_TOKEN"] = "tok"
	c, err = FromEnv(env(m), all)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.1/32 fd00::/8" || !c.OnFly || c.MetricsToken != "tok" {
		t.Fatalf("proxies %v fly %v token %q", got, c.OnFly, c.MetricsToken)
	}
	m["PARLEY_TRUSTED_PROXIES"] = "10.0.0.0/8,not-a-cidr"
	if _, err := FromEnv(env(m), all); err == nil || !strings.Contains(err.Error(), "PARLEY_TRUSTED_PROXIES") || !strings.Contains(err.Error(), "not-a-cidr") {
		t.Fatalf("a bad CIDR: %v", err)
	}
}

func TestParseRetention(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "365d": 365 * 24 * time.Hour, "48h": 48 * time.Hour} {
		if got, err := ParseRetention(v); err != nil || got != want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"0d", "-3d", "xd", "10m", "forever"} {
		if _, err := ParseRetention(v); err == nil {
			t.Errorf("ParseRetention(%q) accepted", v)
		}
	}
}
