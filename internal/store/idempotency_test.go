package store_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// idemSetup adds two API keys to the bundle's database.
func idemSetup(t *testing.T) (*bundle, int64, int64) {
	t.Helper()
	b := setup(t)
	k1, err := b.st.CreateAPIKey(b.ctx, "one", "pk_one_0123456789")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := b.st.CreateAPIKey(b.ctx, "two", "pk_two_0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return b, k1.ID, k2.ID
}

func (b *bundle) claim(t *testing.T, apiKey int64, key, req string) store.IdempotencyClaim {
	t.Helper()
	c, err := b.st.ClaimIdempotencyKey(b.ctx, apiKey, key, hashOf(req))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (b *bundle) expectState(t *testing.T, apiKey int64, key, req string, want store.IdempotencyState) store.IdempotencyClaim {
	t.Helper()
	c := b.claim(t, apiKey, key, req)
	if c.State != want {
		t.Fatalf("claim %d/%s with %q: state %d, want %d", apiKey, key, req, c.State, want)
	}
	return c
}

func TestIdempotencyKeyClaimCompleteReplay(t *testing.T) {
	t.Parallel()
	b, one, two := idemSetup(t)
	first := b.expectState(t, one, "k1", "req A", store.IdempotencyStarted)
	if first.Token.IsZero() {
		t.Fatal("no claim token")
	}
	b.expectState(t, one, "k1", "req A", store.IdempotencyInProgress)
	b.expectState(t, one, "k1", "req B", store.IdempotencyConflict)
	// Keys are per API key.
	other := b.expectState(t, two, "k1", "req B", store.IdempotencyStarted)

	if err := b.st.CompleteIdempotencyKey(b.ctx, one, "k1", first.Token, 202, "application/json", []byte(`{"data":{"id":7}}`)); err != nil {
		t.Fatal(err)
	}
	r := b.expectState(t, one, "k1", "req A", store.IdempotencyReplay)
	if r.Status != 202 || r.ContentType != "application/json" || !bytes.Equal(r.Body, []byte(`{"data":{"id":7}}`)) {
		t.Fatalf("replay %+v", r)
	}
	b.expectState(t, one, "k1", "req B", store.IdempotencyConflict)
	// Completing twice does nothing: the first answer stays.
	if err := b.st.CompleteIdempotencyKey(b.ctx, one, "k1", first.Token, 400, "text/plain", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second complete: %v, want ErrNotFound", err)
	}
	if r := b.claim(t, one, "k1", "req A"); r.Status != 202 {
		t.Fatalf("after a second complete: %+v", r)
	}
	// The other API key's claim is untouched.
	b.expectState(t, two, "k1", "req B", store.IdempotencyInProgress)
	if err := b.st.CompleteIdempotencyKey(b.ctx, two, "k1", other.Token, 400, "application/json", nil); err != nil {
		t.Fatal(err)
	}
	if r := b.expectState(t, two, "k1", "req B", store.IdempotencyReplay); r.Status != 400 || len(r.Body) != 0 {
		t.Fatalf("other key's replay %+v", r)
	}
}

func TestIdempotencyKeyRelease(t *testing.T) {
	t.Parallel()
	b, one, _ := idemSetup(t)
	c := b.expectState(t, one, "k", "req", store.IdempotencyStarted)
	if err := b.st.ReleaseIdempotencyKey(b.ctx, one, "k", c.Token); err != nil {
		t.Fatal(err)
	}
	// Released: the retry (even of another request) starts afresh.
	again := b.expectState(t, one, "k", "req 2", store.IdempotencyStarted)
	// The first claim's token no longer releases or completes anything.
	if err := b.st.ReleaseIdempotencyKey(b.ctx, one, "k", c.Token); err != nil {
		t.Fatal(err)
	}
	b.expectState(t, one, "k", "req 2", store.IdempotencyInProgress)
	if err := b.st.CompleteIdempotencyKey(b.ctx, one, "k", again.Token, 201, "application/json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	// A completed answer is not released.
	if err := b.st.ReleaseIdempotencyKey(b.ctx, one, "k", again.Token); err != nil {
		t.Fatal(err)
	}
	b.expectState(t, one, "k", "req 2", store.IdempotencyReplay)
}

// After 24 hours a key is new again, and old keys are pruned as new ones come.
func TestIdempotencyKeyExpiry(t *testing.T) {
	t.Parallel()
	b, one, two := idemSetup(t)
	for i, apiKey := range []int64{one, one, two} {
		key := fmt.Sprintf("old-%d", i)
		c := b.expectState(t, apiKey, key, "req", store.IdempotencyStarted)
		if err := b.st.CompleteIdempotencyKey(b.ctx, apiKey, key, c.Token, 202, "application/json", []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	b.expectState(t, one, "fresh", "req", store.IdempotencyStarted)
	age := func(key string, by time.Duration) {
		t.Helper()
		if _, err := b.st.Pool.Exec(b.ctx, `UPDATE idempotency_keys SET created_at = created_at - $2::interval WHERE key = $1`,
			key, fmt.Sprintf("%d seconds", int(by.Seconds()))); err != nil {
			t.Fatal(err)
		}
	}
	age("old-0", store.IdempotencyTTL+time.Minute)
	age("old-1", store.IdempotencyTTL+time.Minute)
	age("old-2", store.IdempotencyTTL+time.Minute)
	age("fresh", store.IdempotencyTTL-time.Minute)

	// An expired key is new: even another body starts.
	c := b.expectState(t, one, "old-0", "another req", store.IdempotencyStarted)
	if err := b.st.CompleteIdempotencyKey(b.ctx, one, "old-0", c.Token, 202, "application/json", []byte(`{"new":true}`)); err != nil {
		t.Fatal(err)
	}
	if r := b.expectState(t, one, "old-0", "another req", store.IdempotencyReplay); string(r.Body) != `{"new":true}` {
		t.Fatalf("replay after expiry %s", r.Body)
	}
	// That claim pruned the other expired keys, of every API key, not the fresh one.
	var keys []string
	rows, err := b.st.Pool.Query(b.ctx, `SELECT key FROM idempotency_keys ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if fmt.Sprint(keys) != "[fresh old-0]" {
		t.Fatalf("keys left %v, want [fresh old-0]", keys)
	}
	// Within 24 hours the key still holds.
	b.expectState(t, one, "fresh", "another req", store.IdempotencyConflict)
}

// A key left in progress by a request that died is taken over by a retry of
// the same request after the lease, and the dead claim can no longer answer.
func TestIdempotencyKeyAbandoned(t *testing.T) {
	t.Parallel()
	b, one, _ := idemSetup(t)
	dead := b.expectState(t, one, "k", "req", store.IdempotencyStarted)
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE idempotency_keys SET created_at = created_at - interval '4 minutes'`); err != nil {
		t.Fatal(err)
	}
	b.expectState(t, one, "k", "req", store.IdempotencyInProgress) // within the lease
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE idempotency_keys SET created_at = created_at - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	b.expectState(t, one, "k", "other req", store.IdempotencyConflict) // only the same request takes over
	retry := b.expectState(t, one, "k", "req", store.IdempotencyStarted)
	if err := b.st.CompleteIdempotencyKey(b.ctx, one, "k", dead.Token, 500, "", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dead claim completed: %v", err)
	}
	if err := b.st.ReleaseIdempotencyKey(b.ctx, one, "k", dead.Token); err != nil {
		t.Fatal(err)
	}
	b.expectState(t, one, "k", "req", store.IdempotencyInProgress)
	if err := b.st.CompleteIdempotencyKey(b.ctx, one, "k", retry.Token, 202, "application/json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	b.expectState(t, one, "k", "req", store.IdempotencyReplay)
}

// Concurrent claims of one key: exactly one starts.
func TestIdempotencyKeyConcurrentClaims(t *testing.T) {
	t.Parallel()
	b, one, _ := idemSetup(t)
	const n = 20
	states := make([]store.IdempotencyState, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, err := b.st.ClaimIdempotencyKey(b.ctx, one, "race", hashOf("req"))
			states[i], errs[i] = c.State, err
		}()
	}
	close(start)
	wg.Wait()
	started := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch states[i] {
		case store.IdempotencyStarted:
			started++
		case store.IdempotencyInProgress:
		default:
			t.Errorf("claim %d: state %d", i, states[i])
		}
	}
	if started != 1 {
		t.Fatalf("%d claims started, want exactly 1", started)
	}
}
