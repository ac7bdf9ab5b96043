// Package hooks is Parley's outbound webhooks: brands subscribe their own
// URLs to events, the services that make the events emit them here, and a
// worker posts each one, signed, retried with backoff for 24 hours, in order
// per conversation. Delivery rows are the outbox and the log.
package hooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/store"
)

// Event types a subscription may ask for.
const (
	MessageReceived      = "message.received"
	MessageStatus        = "message.status"
	ConversationAssigned = "conversation.assigned"
	ConversationClosed   = "conversation.closed"
	ConsentChanged       = "consent.changed"
	AnswerReceived       = "answer.received"
	CampaignCompleted    = "campaign.completed"
	// Test is the event of "send a test": delivered to one subscription,
	// whatever its events.
	Test = "webhook.test"
)

// Types lists the event types a subscription may name.
var Types = []string{MessageReceived, MessageStatus, ConversationAssigned, ConversationClosed, ConsentChanged, AnswerReceived,
	CampaignCompleted}

// Event is something that happened in a brand, for its subscribers.
// ConversationID, when set, orders its deliveries after the conversation's
// earlier ones.
type Event struct {
	BrandID        int64
	Type           string
	ConversationID int64
	Data           map[string]any
}

// FieldError is bad input: the field and what was wrong.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ErrNotFound is a subscription that does not exist (or was deleted).
var ErrNotFound = errors.New("no such webhook")

// cacheTTL is how long the subscriptions read from Postgres are used: a
// change made by another process is seen within it (this process's own at
// once).
const cacheTTL = 5 * time.Second

// Service keeps the subscriptions and emits events.
type Service struct {
	st  *store.Store
	q   *asynq.Client
	ns  string
	log *slog.Logger
	Now func() time.Time

	mu      sync.Mutex
	byBrand map[int64][]store.Webhook
	loaded  time.Time
	loading bool
}

// New returns the service. rdb carries the delivery tasks (nil: none are
// queued, the worker's sweep finds the deliveries); namespace prefixes the
// queue name as elsewhere ("" in production).
func New(st *store.Store, rdb redis.UniversalClient, namespace string, log *slog.Logger) *Service {
	s := &Service{st: st, ns: namespace, log: log, Now: time.Now}
	if rdb != nil {
		s.q = asynq.NewClientFromRedisClient(rdb)
	}
	return s
}

// CheckURL accepts https URLs, and http only to this machine (127.0.0.1,
// ::1, localhost) for development.
func CheckURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", &FieldError{"url", "give the URL to post events to"}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return "", &FieldError{"url", fmt.Sprintf("%q is not an absolute URL without credentials", raw)}
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", &FieldError{"url", "the URL must be https (http only to 127.0.0.1, ::1 or localhost)"}
		}
	default:
		return "", &FieldError{"url", "the URL must be https"}
	}
	return u.String(), nil
}

// CheckEvents returns the named event types, each once, or an error naming
// the first unknown one.
func CheckEvents(events []string) ([]string, error) {
	var out []string
	for _, e := range events {
		e = strings.TrimSpace(e)
		if !slices.Contains(Types, e) {
			return nil, &FieldError{"events", fmt.Sprintf("%q is not an event; use %s", e, strings.Join(Types, ", "))}
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, &FieldError{"events", "name at least one event: " + strings.Join(Types, ", ")}
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Create subscribes url to events for brandID; the result carries its
// secret, which only the creator is shown.
func (s *Service) Create(ctx context.Context, brandID int64, rawURL string, events []string) (store.Webhook, error) {
	u, err := CheckURL(rawURL)
	if err != nil {
		return store.Webhook{}, err
	}
	evs, err := CheckEvents(events)
	if err != nil {
		return store.Webhook{}, err
	}
	w, err := s.st.CreateWebhook(ctx, brandID, u, evs, "whsec_"+randomHex(24))
	if err != nil {
		return w, err
	}
	s.invalidate()
	return w, nil
}

// Delete removes a subscription: its pending deliveries are cancelled and
// nothing more is posted to it.
func (s *Service) Delete(ctx context.Context, id int64) error {
	err := s.st.DeleteWebhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err == nil {
		s.invalidate()
	}
	return err
}

// Get returns a live subscription.
func (s *Service) Get(ctx context.Context, id int64) (store.Webhook, error) {
	w, err := s.st.WebhookByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return w, ErrNotFound
	}
	return w, err
}

// SendTest queues a webhook.test event to one subscription and returns its
// delivery id.
func (s *Service) SendTest(ctx context.Context, w store.Webhook) (int64, error) {
	ids, err := s.write(ctx, []store.Webhook{w}, Event{BrandID: w.BrandID, Type: Test,
		Data: map[string]any{"webhook_id": w.ID, "message": "a test event from Parley"}})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func (s *Service) invalidate() {
	s.mu.Lock()
	s.loaded = time.Time{}
	s.mu.Unlock()
}

// subscribers returns the brand's subscriptions that want typ, from the
// cache: loaded once synchronously, then refreshed in the background when
// older than cacheTTL, so an emitter never waits on the refresh.
func (s *Service) subscribers(ctx context.Context, brandID int64, typ string) ([]store.Webhook, error) {
	s.mu.Lock()
	have := s.byBrand != nil && !s.loaded.IsZero()
	if have && time.Since(s.loaded) >= cacheTTL && !s.loading {
		s.loading = true
		go func() { _ = s.reload(context.WithoutCancel(ctx)) }()
	}
	subs := s.byBrand[brandID]
	s.mu.Unlock()
	if !have {
		if err := s.reload(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		subs = s.byBrand[brandID]
		s.mu.Unlock()
	}
	var out []store.Webhook
	for _, w := range subs {
		if slices.Contains(w.Events, typ) {
			out = append(out, w)
		}
	}
	return out, nil
}

func (s *Service) reload(ctx context.Context) error {
	ws, err := s.st.AllWebhooks(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loading = false
	if err != nil {
		return err
	}
	m := make(map[int64][]store.Webhook)
	for _, w := range ws {
		m[w.BrandID] = append(m[w.BrandID], w)
	}
	s.byBrand, s.loaded = m, time.Now()
	return nil
}

// Emit writes one delivery per subscription of the brand that wants the
// event and queues their tasks. A brand without subscriptions costs a map
// read. Failures are logged, never returned: an event must not undo what
// caused it; a delivery whose task was not queued is found by the sweep.
func (s *Service) Emit(ctx context.Context, e Event) {
	if s == nil {
		return
	}
	subs, err := s.subscribers(ctx, e.BrandID, e.Type)
	if err == nil && len(subs) > 0 {
		_, err = s.write(ctx, subs, e)
	}
	if err != nil {
		s.log.Error("webhooks: event not recorded", "type", e.Type, "brand", e.BrandID, "err", err)
	}
}

// body is what a delivery posts.
type body struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	CreatedAt time.Time      `json:"created_at"`
	Brand     string         `json:"brand"`
	Data      map[string]any `json:"data"`
}

func (s *Service) write(ctx context.Context, subs []store.Webhook, e Event) ([]int64, error) {
	data := e.Data
	if data == nil {
		data = map[string]any{}
	}
	b, err := json.Marshal(body{ID: "evt_" + randomHex(12), Type: e.Type, CreatedAt: s.Now().UTC(), Brand: subs[0].BrandSlug, Data: data})
	if err != nil {
		return nil, fmt.Errorf("hooks: event body: %w", err)
	}
	var id struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &id)
	ds := make([]store.NewDelivery, len(subs))
	for i, w := range subs {
		ds[i] = store.NewDelivery{WebhookID: w.ID, EventID: id.ID, Type: e.Type, ConversationID: e.ConversationID, Body: string(b)}
	}
	ids, err := s.st.AddDeliveries(ctx, ds)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := s.enqueue(ctx, id, time.Time{}); err != nil {
			s.log.Warn("webhooks: delivery task not queued; the sweep will", "delivery", id, "err", err)
		}
	}
	return ids, nil
}

// taskID is the asynq task of a delivery: one at a time.
func taskID(id int64) string { return "webhook:" + strconv.FormatInt(id, 10) }

func (s *Service) enqueue(ctx context.Context, id int64, at time.Time) error {
	if s.q == nil {
		return nil
	}
	p, _ := json.Marshal(payload{ID: id})
	opts := []asynq.Option{asynq.TaskID(taskID(id)), asynq.Queue(s.ns + Queue), asynq.MaxRetry(taskRetries),
		asynq.Timeout(time.Minute)}
	if !at.IsZero() {
		opts = append(opts, asynq.ProcessAt(at))
	}
	_, err := s.q.EnqueueContext(ctx, asynq.NewTask(TaskType, p), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}
