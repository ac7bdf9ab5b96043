package store_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// A sign-in attempt is counted before its password is checked, a success
// clears the account's failures from that address, and failures older than
// the window are pruned.
func TestBeginSignIn(t *testing.T) {
	b := setup(t)
	allow := func(store.SignInStats) bool { return true }
	if _, err := b.st.Pool.Exec(b.ctx, `INSERT INTO login_failures (email, address, at) VALUES ('old@x.example', '192.0.2.1', now() - interval '20 minutes')`); err != nil {
		t.Fatal(err)
	}
	var first int64
	for i := 0; i < 3; i++ {
		id, st, ok, err := b.st.BeginSignIn(b.ctx, "Agent@X.example", "192.0.2.1", 15*time.Minute, allow)
		if err != nil || !ok {
			t.Fatalf("attempt %d: %v %v", i+1, ok, err)
		}
		if st.Pair != i || st.Address != i {
			t.Fatalf("attempt %d saw %d failures of the account and %d of the address, want %d", i+1, st.Pair, st.Address, i)
		}
		if i == 0 {
			first = id
		}
	}
	if _, st, ok, err := b.st.BeginSignIn(b.ctx, "other@x.example", "192.0.2.1", 15*time.Minute,
		func(s store.SignInStats) bool { return false }); err != nil || ok || st.Pair != 0 || st.Address != 3 || st.AddressOldest.IsZero() {
		t.Fatalf("a refused attempt: ok %v stats %+v err %v", ok, st, err)
	}
	var n int
	_ = b.st.Pool.QueryRow(b.ctx, `SELECT count(*) FROM login_failures`).Scan(&n)
	if n != 3 {
		t.Fatalf("%d failure rows, want 3 (the old one pruned, the refused attempt not counted)", n)
	}
	if err := b.st.SignInSucceeded(b.ctx, first, "agent@x.example", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_ = b.st.Pool.QueryRow(b.ctx, `SELECT count(*) FROM login_failures`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d failure rows after the account signed in from that address, want 0", n)
	}
}
