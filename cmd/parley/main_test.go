package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/store/storetest"
)

type cli struct {
	t   *testing.T
	env map[string]string
}

func setup(t *testing.T) *cli {
	t.Helper()
	t.Parallel()
	return &cli{t: t, env: map[string]string{"DATABASE_URL": storetest.NewDB(t)}}
}

func (c *cli) run(stdin string, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return c.env[k] }, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func TestMigrateTwice(t *testing.T) {
	c := setup(t)
	for i := 0; i < 2; i++ {
		if _, stderr, err := c.run("", "migrate"); err != nil {
			t.Fatalf("migrate #%d: %v %s", i+1, err, stderr)
		}
	}
}

func TestBrandUserAPIKey(t *testing.T) {
	c := setup(t)
	out, _, err := c.run("", "brand", "add", "--slug", "demo-air", "--name", "Demo Air", "--number", "+15005550006",
		"--number", "(212) 555-0100", "--mps", "25", "--timezone", "America/Chicago", "--help-text", "Call us")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "+15005550006 (25 mps)") || !strings.Contains(out, "+12125550100 (25 mps)") || !strings.Contains(out, "America/Chicago") {
		t.Fatalf("brand add printed %q", out)
	}
	// Updating is the same command.
	if out, _, err = c.run("", "brand", "add", "--slug", "demo-air", "--name", "Demo Air Lines", "--number", "+15005550006", "--mps", "50"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Demo Air Lines") || !strings.Contains(out, "+15005550006 (50 mps)") || !strings.Contains(out, "America/Chicago") {
		t.Fatalf("brand update printed %q", out)
	}
	// A number can belong to one brand only.
	if _, _, err = c.run("", "brand", "add", "--slug", "other", "--name", "Other", "--number", "+15005550006"); err == nil ||
		!strings.Contains(err.Error(), "--number") {
		t.Fatalf("taken number: err %v", err)
	}

	out, _, err = c.run("sup3r-secret-pw\n", "user", "add", "--email", "Agent@Example.com", "--role", "agent")
	if err != nil || !strings.Contains(out, "agent@example.com") || strings.Contains(out, "password:") {
		t.Fatalf("user add with stdin password: %q %v", out, err)
	}
	if _, _, err = c.run("", "user", "add", "--email", "limited@example.com", "--brand", "nope"); err == nil || !strings.Contains(err.Error(), "--brand") {
		t.Fatalf("user add with an unknown brand: %v", err)
	}
	if _, _, err = c.run("", "user", "add", "--email", "limited@example.com", "--brand", "demo-air"); err != nil {
		t.Fatal(err)
	}
	db, err := pgx.Connect(context.Background(), c.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM user_brands ub JOIN users u ON u.id = ub.user_id
		JOIN brands b ON b.id = ub.brand_id WHERE u.email = 'limited@example.com' AND b.slug = 'demo-air'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("--brand: %d rows, %v", n, err)
	}
	out, _, err = c.run("", "user", "add", "--email", "boss@example.com", "--role", "admin")
	if err != nil || !strings.Contains(out, "password: ") {
		t.Fatalf("user add without a password should generate one: %q %v", out, err)
	}

	out, _, err = c.run("", "apikey", "add", "--name", "crm")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if key := lines[len(lines)-1]; !strings.HasPrefix(key, "pk_") || len(key) < 30 {
		t.Fatalf("last line %q is not a key", key)
	}
	if _, _, err = c.run("", "apikey", "add", "--name", "loyalty sync", "--brand", "demo-air", "--scope", "contacts:read",
		"--scope", "contacts:write", "--rate", "7"); err != nil {
		t.Fatal(err)
	}
	var allBrands, allScopes bool
	var scopes []string
	var rate int
	if err := db.QueryRow(context.Background(), `SELECT k.all_brands, k.all_scopes, k.scopes, k.rate FROM api_keys k
		WHERE k.name = 'loyalty sync' AND k.brand_ids = ARRAY[(SELECT id FROM brands WHERE slug = 'demo-air')]`).Scan(&allBrands, &allScopes, &scopes, &rate); err != nil {
		t.Fatalf("the limited key: %v", err)
	}
	if allBrands || allScopes || strings.Join(scopes, " ") != "contacts:read contacts:write" || rate != 7 {
		t.Fatalf("limited key: all brands %v, all scopes %v, scopes %v, rate %d", allBrands, allScopes, scopes, rate)
	}
}

func TestBadInput(t *testing.T) {
	c := setup(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"brand", "add", "--name", "X"}, "--slug"},
		{[]string{"brand", "add", "--slug", "Bad Slug", "--name", "X"}, "--slug"},
		{[]string{"brand", "add", "--slug", "x", "--name", ""}, "--name"},
		{[]string{"brand", "add", "--slug", "x", "--name", "X", "--number", "12"}, "--number"},
		{[]string{"brand", "add", "--slug", "x", "--name", "X", "--number", "abc"}, "--number"},
		{[]string{"brand", "add", "--slug", "x", "--name", "X", "--number", "5550123"}, "--number"},
		{[]string{"brand", "add", "--slug", "x", "--name", "X", "--timezone", "Mars/Olympus"}, "--timezone"},
		{[]string{"brand", "add", "--slug", "x", "--name", "X", "--mps", "0"}, "--mps"},
		{[]string{"user", "add", "--email", "nope", "--role", "agent"}, "--email"},
		{[]string{"user", "add", "--email", "a@b.c", "--role", "king"}, "--role"},
		{[]string{"apikey", "add"}, "--name"},
		{[]string{"apikey", "add", "--name", "x", "--brand", "nope"}, "--brand"},
		{[]string{"apikey", "add", "--name", "x", "--scope", "everything"}, "--scope"},
		{[]string{"apikey", "add", "--name", "x", "--rate", "0"}, "--rate"},
		{[]string{"apikey", "add", "--name", "x", "--rate", "fast"}, "--rate"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		_, _, err := c.run("", tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err %v, want mention of %s", tt.args, err, tt.want)
		}
	}
	c.env["DATABASE_URL"] = ""
	if _, _, err := c.run("", "migrate"); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("missing DATABASE_URL: %v", err)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{}}
	for _, args := range [][]string{{"--help"}, {"migrate", "--help"}, {"serve", "--help"}, {"worker", "--help"}, {"dev", "--help"},
		{"brand", "add", "--help"}, {"user", "add", "--help"}, {"apikey", "add", "--help"}} {
		out, stderr, err := c.run("", args...)
		if err != nil && err.Error() != "flag: help requested" {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out+stderr, "Usage") && !strings.Contains(out+stderr, "usage") {
			t.Errorf("%v printed no usage: %q %q", args, out, stderr)
		}
	}
}

// `parley contacts import FILE --brand SLUG`: bad rows printed with their
// line, a summary; plain progress lines when stderr is not a terminal.
func TestContactsImport(t *testing.T) {
	c := setup(t)
	if _, stderr, err := c.run("", "brand", "add", "--slug", "demo-air", "--name", "Demo Air", "--number", "+15005550006"); err != nil {
		t.Fatal(err, stderr)
	}
	path := t.TempDir() + "/contacts.csv"
	if err := os.WriteFile(path, []byte("phone,name,tier\n+12125550101,Ana,gold\nnope,Bad,\n+12125550102,Ben,silver\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := c.run("", "contacts", "import", path, "--brand", "demo-air")
	if err != nil {
		t.Fatalf("%v %s", err, stderr)
	}
	if !strings.Contains(out, "line 3: invalid phone") || !strings.Contains(out, "imported 2 of 3 rows into demo-air (2 new contacts), skipped 1") {
		t.Fatalf("printed %q", out)
	}
	// A row for the identity rules (a phone of one contact with the
	// loyalty ID of another: a merge) needs a connection beside the
	// import's two sessions; the CLI's pool once had only two, and waited.
	merge := t.TempDir() + "/merge.csv"
	if err := os.WriteFile(merge, []byte("phone,loyalty_id\n+12125550103,L1\n+12125550101,L1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		out, stderr string
		err         error
	}
	done := make(chan result, 1)
	go func() {
		out, stderr, err := c.run("", "contacts", "import", merge, "--brand", "demo-air")
		done <- result{out, stderr, err}
	}()
	select {
	case r := <-done:
		if r.err != nil || !strings.Contains(r.out, "imported 2 of 2 rows") {
			t.Fatalf("the merge: %v %q %q", r.err, r.out, r.stderr)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the CLI import of a merge never finished")
	}
	if _, _, err := c.run("", "contacts", "import", path, "--brand", "nope"); err == nil || !strings.Contains(err.Error(), "--brand") {
		t.Fatalf("an unknown brand: %v", err)
	}
	if _, _, err := c.run("", "contacts", "import", "--brand", "demo-air"); err == nil || !strings.Contains(err.Error(), "one file") {
		t.Fatalf("no file: %v", err)
	}
}
