package hooks_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

type received struct {
	body      []byte
	sig, typ  string
	delivery  string
	verifyErr error
}

// receiver is a brand's endpoint: it records what it gets and answers with
// the next of codes (200 once they run out).
type receiver struct {
	mu    sync.Mutex
	got   []received
	codes []int
	srv   *httptest.Server
}

func newReceiver(t *testing.T, secret *string, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		sig := req.Header.Get(hooks.HeaderSignature)
		r.got = append(r.got, received{body: b, sig: sig, typ: req.Header.Get(hooks.HeaderEvent),
			delivery: req.Header.Get(hooks.HeaderDelivery), verifyErr: hooks.Verify(*secret, sig, b, time.Now())})
		code := http.StatusOK
		if len(r.codes) > 0 {
			code, r.codes = r.codes[0], r.codes[1:]
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type bundle struct {
	st    *store.Store
	svc   *hooks.Service
	wk    *hooks.Worker
	brand store.Brand
}

func setup(t *testing.T) *bundle {
	t.Helper()
	st, _ := storetest.New(t)
	ctx := context.Background()
	b, err := st.CreateBrand(ctx, store.BrandInput{Slug: "demo-air", Name: "Demo Air", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	ns := "h" + randHex(6) + ":"
	log := slog.New(slog.NewTextHandler(logOut(), nil))
	svc := hooks.New(st, rdb, ns, log)
	wk := hooks.NewWorker(svc, rdb, 4)
	wk.RetryBase, wk.RetryMax, wk.SweepEvery = 100*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = wk.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &bundle{st: st, svc: svc, wk: wk, brand: b}
}

func redisURL() string {
	if v := os.Getenv("PARLEY_TEST_REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/15"
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (b *bundle) subscribe(t *testing.T, url string, secret *string, events ...string) store.Webhook {
	t.Helper()
	w, err := b.svc.Create(context.Background(), b.brand.ID, url, events)
	if err != nil {
		t.Fatal(err)
	}
	*secret = w.Secret
	return w
}

func TestSignedDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var secret string
	r := newReceiver(t, &secret)
	w := b.subscribe(t, r.srv.URL+"/hook", &secret, hooks.MessageReceived)
	b.svc.Emit(context.Background(), hooks.Event{BrandID: b.brand.ID, Type: hooks.MessageReceived, ConversationID: 7,
		Data: map[string]any{"message_id": 1, "body": "hello"}})
	b.svc.Emit(context.Background(), hooks.Event{BrandID: b.brand.ID, Type: hooks.ConversationClosed}) // not subscribed
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(r.all()) == 1 })
	got := r.all()[0]
	if got.verifyErr != nil {
		t.Fatalf("signature %q does not verify: %v", got.sig, got.verifyErr)
	}
	if got.typ != hooks.MessageReceived || got.delivery == "" {
		t.Fatalf("headers: event %q delivery %q", got.typ, got.delivery)
	}
	var body struct {
		ID, Type, Brand string
		CreatedAt       time.Time `json:"created_at"`
		Data            map[string]any
	}
	if err := json.Unmarshal(got.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != hooks.MessageReceived || body.Brand != "demo-air" || body.ID == "" || body.Data["body"] != "hello" || body.CreatedAt.IsZero() {
		t.Fatalf("body %s", got.body)
	}
	if err := hooks.Verify("whsec_other", got.sig, got.body, time.Now()); !errors.Is(err, hooks.ErrBadSignature) {
		t.Fatalf("another secret verifies: %v", err)
	}
	if err := hooks.Verify(secret, got.sig, append(got.body, ' '), time.Now()); !errors.Is(err, hooks.ErrBadSignature) {
		t.Fatalf("a changed body verifies: %v", err)
	}
	if err := hooks.Verify(secret, got.sig, got.body, time.Now().Add(6*time.Minute)); !errors.Is(err, hooks.ErrStale) {
		t.Fatalf("a replay after 6 minutes verifies: %v", err)
	}
	waitFor(t, 5*time.Second, "logged", func() bool {
		ds, _ := b.st.Deliveries(context.Background(), w.ID, 0, 10)
		return len(ds) == 1 && ds[0].Status == "delivered" && ds[0].LastCode == 200 && ds[0].Attempts == 1
	})
}

func TestRetryAfterServerError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var secret string
	r := newReceiver(t, &secret, 500, 503)
	w := b.subscribe(t, r.srv.URL, &secret, hooks.ConsentChanged)
	b.svc.Emit(context.Background(), hooks.Event{BrandID: b.brand.ID, Type: hooks.ConsentChanged, Data: map[string]any{"phone": "+1"}})
	waitFor(t, 15*time.Second, "third attempt delivered", func() bool {
		ds, _ := b.st.Deliveries(context.Background(), w.ID, 0, 10)
		return len(ds) == 1 && ds[0].Status == "delivered" && ds[0].Attempts == 3 && ds[0].LastError == ""
	})
	got := r.all()
	if len(got) != 3 || string(got[0].body) != string(got[2].body) {
		t.Fatalf("%d attempts; every attempt must carry the same body", len(got))
	}
	for _, g := range got {
		if g.verifyErr != nil {
			t.Fatal(g.verifyErr)
		}
	}
}

func TestOrderPerConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var secret string
	// The first delivery fails twice: the later ones of its conversation
	// wait for it, another conversation's does not.
	r := newReceiver(t, &secret, 500, 500)
	b.subscribe(t, r.srv.URL, &secret, hooks.MessageReceived)
	ctx := context.Background()
	for i := 1; i <= 4; i++ {
		b.svc.Emit(ctx, hooks.Event{BrandID: b.brand.ID, Type: hooks.MessageReceived, ConversationID: 1, Data: map[string]any{"n": i}})
	}
	waitFor(t, 20*time.Second, "all delivered", func() bool { return len(r.all()) == 6 })
	var order []float64
	for _, g := range r.all()[2:] {
		var body struct{ Data map[string]any }
		_ = json.Unmarshal(g.body, &body)
		order = append(order, body.Data["n"].(float64))
	}
	for i, n := range order {
		if n != float64(i+1) {
			t.Fatalf("delivered in order %v, want 1 2 3 4", order)
		}
	}
}

func TestDeleteStopsDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var secret string
	r := newReceiver(t, &secret, 500, 500, 500, 500, 500, 500, 500, 500)
	w := b.subscribe(t, r.srv.URL, &secret, hooks.ConversationClosed)
	ctx := context.Background()
	b.svc.Emit(ctx, hooks.Event{BrandID: b.brand.ID, Type: hooks.ConversationClosed})
	waitFor(t, 10*time.Second, "first attempt", func() bool { return len(r.all()) >= 1 })
	if err := b.svc.Delete(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	b.svc.Emit(ctx, hooks.Event{BrandID: b.brand.ID, Type: hooks.ConversationClosed}) // no subscriber any more
	n := len(r.all())
	time.Sleep(time.Second)
	if got := len(r.all()); got > n+1 { // one attempt may have been in flight
		t.Fatalf("%d posts after the delete", got-n)
	}
	ds, err := b.st.Deliveries(ctx, w.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Status != "cancelled" {
		t.Fatalf("deliveries after delete: %+v", ds)
	}
	if err := b.svc.Delete(ctx, w.ID); !errors.Is(err, hooks.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/parley", true},
		{"http://127.0.0.1:8080/x", true},
		{"http://localhost/x", true},
		{"http://[::1]:9000/", true},
		{"http://hooks.example.com/parley", false},
		{"http://10.0.0.1/x", false},
		{"ftp://example.com", false},
		{"https://user:pw@example.com", false},
		{"/relative", false},
		{"", false},
	} {
		_, err := hooks.CheckURL(tc.url)
		var fe *hooks.FieldError
		if tc.ok != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "url")) {
			t.Errorf("CheckURL(%q) = %v", tc.url, err)
		}
	}
	if _, err := hooks.CheckEvents([]string{"message.received", "message.deleted"}); err == nil {
		t.Error("an unknown event is accepted")
	}
	if _, err := hooks.CheckEvents(nil); err == nil {
		t.Error("no events is accepted")
	}
}

func TestTestEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var secret string
	r := newReceiver(t, &secret)
	w := b.subscribe(t, r.srv.URL, &secret, hooks.CampaignCompleted)
	if _, err := b.svc.SendTest(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "test delivery", func() bool { return len(r.all()) == 1 })
	if g := r.all()[0]; g.typ != hooks.Test || g.verifyErr != nil {
		t.Fatalf("test event: %q %v", g.typ, g.verifyErr)
	}
}

func logOut() io.Writer {
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

func TestAnswerAndCampaignEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var secret string
	r := newReceiver(t, &secret)
	b.subscribe(t, r.srv.URL, &secret, hooks.AnswerReceived, hooks.CampaignCompleted)
	ctx := context.Background()
	five := 5
	b.svc.AnswerReceived(ctx, store.Reply{BrandID: b.brand.ID, QuestionID: 3, AskID: 4, Kind: "rating", ConversationID: 9, Body: "5!"},
		store.Answered{State: "answered", Parsed: true, Value: &five})
	b.svc.AnswerReceived(ctx, store.Reply{BrandID: b.brand.ID, ConversationID: 9, Body: "STOP"}, store.Answered{State: "closed"}) // no answer
	b.svc.CampaignCompleted(ctx, b.brand.ID, 12, "Spring")
	waitFor(t, 10*time.Second, "two events", func() bool { return len(r.all()) == 2 })
	time.Sleep(200 * time.Millisecond)
	got := map[string]map[string]any{}
	for _, g := range r.all() {
		var body struct {
			Type string
			Data map[string]any
		}
		if err := json.Unmarshal(g.body, &body); err != nil {
			t.Fatal(err)
		}
		got[body.Type] = body.Data
	}
	if a := got[hooks.AnswerReceived]; a == nil || a["value"] != float64(5) || a["question_id"] != float64(3) || a["text"] != "5!" {
		t.Fatalf("answer.received %v", a)
	}
	if c := got[hooks.CampaignCompleted]; c == nil || c["campaign_id"] != float64(12) || c["name"] != "Spring" {
		t.Fatalf("campaign.completed %v", c)
	}
	if len(r.all()) != 2 {
		t.Fatalf("%d events; a reply that is no answer emits nothing", len(r.all()))
	}
}
