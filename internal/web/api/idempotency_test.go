package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/queue"
)

// idemBundle is a whole Parley (no worker, so queued tasks stay in Redis to be
// counted) with two API keys.
type idemBundle struct {
	*apptest.Env
	key, otherKey string
}

func idemSetup(t *testing.T) *idemBundle {
	t.Helper()
	env := apptest.New(t, apptest.Options{})
	b := &idemBundle{Env: env}
	var err error
	if b.key, err = app.APIKeyAdd(context.Background(), env.Store, "one"); err != nil {
		t.Fatal(err)
	}
	if b.otherKey, err = app.APIKeyAdd(context.Background(), env.Store, "two"); err != nil {
		t.Fatal(err)
	}
	return b
}

type idemAnswer struct {
	Status   int
	Replayed string
	Type     string
	Body     string
}

func (a idemAnswer) id(t *testing.T) int64 {
	t.Helper()
	var out struct {
		Data struct {
			ID int64 `json:"id"`
		} `json:"data"`
	}
	if a.Status != http.StatusAccepted || json.Unmarshal([]byte(a.Body), &out) != nil || out.Data.ID == 0 {
		t.Fatalf("answer %d %s, want 202 with an id", a.Status, a.Body)
	}
	return out.Data.ID
}

func (a idemAnswer) expectError(t *testing.T, status int, code string) {
	t.Helper()
	var e apiError
	if a.Status != status || json.Unmarshal([]byte(a.Body), &e) != nil || e.Error.Code != code || e.Error.Field != "Idempotency-Key" {
		t.Fatalf("answer %d %s, want %d %s naming Idempotency-Key", a.Status, a.Body, status, code)
	}
}

// post sends body to POST /api/v1/messages with apiKey and the given
// Idempotency-Key header values (none: no header).
func (b *idemBundle) post(t *testing.T, apiKey, body string, idemKeys ...string) idemAnswer {
	t.Helper()
	return b.postTo(t, "/api/v1/messages", apiKey, body, idemKeys...)
}

func (b *idemBundle) postTo(t *testing.T, path, apiKey, body string, idemKeys ...string) idemAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.PublicURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	for _, k := range idemKeys {
		req.Header.Add("Idempotency-Key", k)
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Error(err) // t.Fatal is not allowed from the goroutines of the concurrency test
		return idemAnswer{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return idemAnswer{Status: resp.StatusCode, Replayed: resp.Header.Get("Idempotent-Replayed"), Type: resp.Header.Get("Content-Type"), Body: string(raw)}
}

// tasks counts the send tasks in this Parley's queues.
func (b *idemBundle) tasks(t *testing.T) int {
	t.Helper()
	insp := asynq.NewInspectorFromRedisClient(b.App.Redis)
	names, err := insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range []string{queue.Replies, queue.Proactive, queue.Bulk} {
		if !slices.Contains(names, b.Prefix+q) {
			continue // no task was ever queued there
		}
		info, err := insp.GetQueueInfo(b.Prefix + q)
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size
	}
	return n
}

func (b *idemBundle) expectCounts(t *testing.T, messages, tasks int) {
	t.Helper()
	if n := b.Count(t, `SELECT count(*) FROM messages`); n != messages {
		t.Errorf("%d messages, want %d", n, messages)
	}
	if n := b.tasks(t); n != tasks {
		t.Errorf("%d queued tasks, want %d", n, tasks)
	}
}

const idemBody = `{"brand": "demo-air", "to": "+12125550142", "body": "Your table is ready"}`

func TestIdempotentSendReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	b := idemSetup(t)
	first := b.post(t, b.key, idemBody, "order-1001")
	id := first.id(t)
	if first.Replayed != "" {
		t.Errorf("the first answer is marked replayed %q", first.Replayed)
	}
	for range 2 {
		again := b.post(t, b.key, idemBody, "order-1001")
		if again.Status != first.Status || again.Body != first.Body || again.Type != first.Type || again.Replayed != "true" {
			t.Fatalf("retry got %+v\nwant the first answer %+v, replayed", again, first)
		}
		if again.id(t) != id {
			t.Fatalf("retry id %d, want %d", again.id(t), id)
		}
	}
	b.expectCounts(t, 1, 1)

	// A validation error is the answer to that body, and is replayed too.
	bad := `{"brand": "demo-air", "to": "12", "body": "hi"}`
	refused := b.post(t, b.key, bad, "order-1002")
	if refused.Status != http.StatusBadRequest || refused.Replayed != "" {
		t.Fatalf("bad body: %+v", refused)
	}
	if again := b.post(t, b.key, bad, "order-1002"); again.Status != http.StatusBadRequest || again.Body != refused.Body || again.Replayed != "true" {
		t.Fatalf("bad body again: %+v", again)
	}

	// Without the header nothing changes: each request queues a text and
	// nothing is kept.
	keys := b.Count(t, `SELECT count(*) FROM idempotency_keys`)
	firstID := b.post(t, b.key, idemBody).id(t)
	if secondID := b.post(t, b.key, idemBody).id(t); firstID == secondID {
		t.Fatal("two requests without a key got one id")
	}
	b.expectCounts(t, 3, 3)
	if n := b.Count(t, `SELECT count(*) FROM idempotency_keys`); n != keys {
		t.Errorf("requests without the header stored %d idempotency rows", n-keys)
	}
}

func TestIdempotencyKeyWithAnotherBodyConflicts(t *testing.T) {
	t.Parallel()
	b := idemSetup(t)
	id := b.post(t, b.key, idemBody, "k-1").id(t)
	other := `{"brand": "demo-air", "to": "+12125550142", "body": "Your table is ready!"}`
	b.post(t, b.key, other, "k-1").expectError(t, http.StatusConflict, "idempotency_conflict")
	// The same JSON with other spacing is another body, byte for byte.
	b.post(t, b.key, strings.ReplaceAll(idemBody, ": ", ":"), "k-1").expectError(t, http.StatusConflict, "idempotency_conflict")
	b.expectCounts(t, 1, 1)
	// The key still holds the first answer.
	if got := b.post(t, b.key, idemBody, "k-1"); got.id(t) != id || got.Replayed != "true" {
		t.Fatalf("after the conflict: %+v", got)
	}
}

func TestIdempotencyKeysArePerAPIKey(t *testing.T) {
	t.Parallel()
	b := idemSetup(t)
	mine := b.post(t, b.key, idemBody, "shared-key")
	theirs := b.post(t, b.otherKey, idemBody, "shared-key")
	if theirs.Replayed != "" || theirs.id(t) == mine.id(t) {
		t.Fatalf("another API key's request with the same key got %+v (first %+v)", theirs, mine)
	}
	// And a different body under the other API key is no conflict.
	if got := b.post(t, b.otherKey, `{"brand": "demo-air", "to": "+12125550143", "body": "hi"}`, "mine-only"); got.Status != http.StatusAccepted {
		t.Fatalf("%+v", got)
	}
	b.post(t, b.key, `{"brand": "demo-air", "to": "+12125550144", "body": "hi"}`, "mine-only").id(t)
	b.expectCounts(t, 4, 4)
}

// Identical requests at the same moment queue one text: the others get its
// answer or are told it is in progress.
func TestIdempotencyConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	b := idemSetup(t)
	const n = 10
	answers := make([]idemAnswer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = b.post(t, b.key, idemBody, "burst")
		}()
	}
	close(start)
	wg.Wait()
	var id int64
	accepted := 0
	for _, a := range answers {
		switch a.Status {
		case http.StatusAccepted:
			accepted++
			if got := a.id(t); id != 0 && got != id {
				t.Fatalf("two ids: %d and %d", id, got)
			} else {
				id = got
			}
		case http.StatusConflict:
			a.expectError(t, http.StatusConflict, "idempotency_in_progress")
		default:
			t.Fatalf("answer %+v", a)
		}
	}
	if accepted == 0 {
		t.Fatal("no request was accepted")
	}
	b.expectCounts(t, 1, 1)
	if got := b.post(t, b.key, idemBody, "burst"); got.id(t) != id || got.Replayed != "true" {
		t.Fatalf("after the burst: %+v, want id %d replayed", got, id)
	}
}

func TestIdempotencyKeyInvalid(t *testing.T) {
	t.Parallel()
	b := idemSetup(t)
	for _, tc := range []struct {
		name string
		keys []string
	}{
		{"empty", []string{""}},
		{"too long", []string{strings.Repeat("k", 256)}},
		{"not ASCII", []string{"clé-1"}},
		{"tab", []string{"a\tb"}},
		{"two headers", []string{"a", "b"}},
	} {
		a := b.post(t, b.key, idemBody, tc.keys...)
		var e apiError
		if a.Status != http.StatusBadRequest || json.Unmarshal([]byte(a.Body), &e) != nil || e.Error.Code != "invalid_field" || e.Error.Field != "Idempotency-Key" {
			t.Errorf("%s: %d %s, want 400 invalid_field naming Idempotency-Key", tc.name, a.Status, a.Body)
		}
	}
	// A body over the limit is refused before the key is claimed.
	if a := b.post(t, b.key, `{"body": "`+strings.Repeat("x", 1<<20)+`"}`, "too-big"); a.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %.200s", a.Status, a.Body)
	}
	b.expectCounts(t, 0, 0)
	if n := b.Count(t, `SELECT count(*) FROM idempotency_keys`); n != 0 {
		t.Errorf("refused requests stored %d idempotency rows", n)
	}
	// The longest key and every printable character are fine.
	b.post(t, b.key, idemBody, strings.Repeat("k", 255)).id(t)
	b.post(t, b.key, idemBody, "a b~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}0").id(t)

	// Every POST the API serves takes the header (each creating POST must
	// declare the middleware): a bad key is refused before the handler.
	posts := 0
	param := regexp.MustCompile(`:[A-Za-z_]+`)
	for _, r := range b.App.Echo.Routes() {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		posts++
		path := strings.ReplaceAll(param.ReplaceAllString(strings.ReplaceAll(r.Path, `\:`, "\x00"), "1"), "\x00", ":")
		b.postTo(t, path, b.key, `{}`, "").expectError(t, http.StatusBadRequest, "invalid_field")
	}
	if posts == 0 {
		t.Fatal("no POST route found under /api/v1/")
	}
}

// A failed request (5xx) releases its key: the client's retry with the same
// key runs anew.
func TestIdempotencyServerErrorReleasesTheKey(t *testing.T) {
	t.Parallel()
	b := idemSetup(t)
	ctx := context.Background()
	// Make the messages insert fail inside the handler, after the key is claimed.
	if _, err := b.Store.Pool.Exec(ctx, `
		CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
		CREATE TRIGGER test_refuse BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION test_refuse();`); err != nil {
		t.Fatal(err)
	}
	failed := b.post(t, b.key, idemBody, "retry-me")
	var e apiError
	if failed.Status != http.StatusInternalServerError || json.Unmarshal([]byte(failed.Body), &e) != nil || e.Error.Code != "internal" {
		t.Fatalf("with inserts refused: %+v, want 500 internal", failed)
	}
	if n := b.Count(t, `SELECT count(*) FROM idempotency_keys`); n != 0 {
		t.Fatalf("the failed request left %d idempotency rows", n)
	}
	if _, err := b.Store.Pool.Exec(ctx, `DROP TRIGGER test_refuse ON messages`); err != nil {
		t.Fatal(err)
	}
	retry := b.post(t, b.key, idemBody, "retry-me")
	if retry.id(t) == 0 || retry.Replayed != "" {
		t.Fatalf("retry %+v, want a fresh 202", retry)
	}
	b.expectCounts(t, 1, 1)
}

// After 24 hours the same key and body are a new request.
func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	b := idemSetup(t)
	first := b.post(t, b.key, idemBody, "daily").id(t)
	if _, err := b.Store.Pool.Exec(context.Background(), `UPDATE idempotency_keys SET created_at = created_at - interval '23 hours 59 minutes'`); err != nil {
		t.Fatal(err)
	}
	if got := b.post(t, b.key, idemBody, "daily"); got.id(t) != first || got.Replayed != "true" {
		t.Fatalf("within 24 h: %+v, want %d replayed", got, first)
	}
	if _, err := b.Store.Pool.Exec(context.Background(), `UPDATE idempotency_keys SET created_at = created_at - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	second := b.post(t, b.key, idemBody, "daily")
	if second.Replayed != "" || second.id(t) == first {
		t.Fatalf("after 24 h: %+v, want a new message", second)
	}
	b.expectCounts(t, 2, 2)
	if got := b.post(t, b.key, idemBody, "daily"); got.id(t) != second.id(t) || got.Replayed != "true" {
		t.Fatalf("the new answer is kept: %+v", got)
	}
	if n := b.Count(t, `SELECT count(*) FROM idempotency_keys`); n != 1 {
		t.Errorf("%d rows for one key", n)
	}
}
