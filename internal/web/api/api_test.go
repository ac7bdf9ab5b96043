package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/campaign"
	"github.com/parleyhq/parley/internal/metrics"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
	"github.com/parleyhq/parley/internal/trigger"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/web/api"
	"github.com/parleyhq/parley/internal/web/console"
	"github.com/parleyhq/parley/internal/web/devphone"
	"github.com/parleyhq/parley/internal/web/links"
	"github.com/parleyhq/parley/internal/web/webhook"
)

const testKey = "pk_test_0123456789abcdef"

type bundle struct {
	ctx   context.Context
	st    *store.Store
	e     *echo.Echo
	air   store.Brand // +15005550006
	hotel store.Brand // +15005550007
	sid   int
}

// setup builds the real server (web.New with the API and webhook handlers) on
// a fresh database with two brands and an API key.
func setup(t testing.TB) *bundle {
	t.Helper()
	st, _ := storetest.New(t)
	ctx := context.Background()
	b := &bundle{ctx: ctx, st: st}
	var err error
	if b.air, err = st.UpsertBrand(ctx, store.BrandInput{Slug: "demoair", Name: "DemoAir", Numbers: []store.BrandNumber{{Number: "+15005550006", MPS: 10}}}); err != nil {
		t.Fatal(err)
	}
	if b.hotel, err = st.UpsertBrand(ctx, store.BrandInput{Slug: "demohotel", Name: "DemoHotel", Numbers: []store.BrandNumber{{Number: "+15005550007", MPS: 10}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAPIKey(ctx, "test", testKey); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	b.e = web.New(log, metrics.New(), web.Health{Postgres: st.Ping}, web.Options{}, &webhook.Handlers{}, api.New(st, log, nil, nil, campaign.NewService(st, nil, "http://parley.test"), trigger.NewService(st, log)), &devphone.Handlers{},
		&links.Handlers{Campaigns: campaign.NewService(st, nil, "http://parley.test"), Log: log},
		&console.Handlers{Auth: auth.New(st), Store: st, Log: log, Queues: http.NotFoundHandler()})
	return b
}

type response struct {
	Status int
	Body   []byte
}

// call sends a request with the test key; body is JSON-encoded unless it is a
// string, which is sent as is.
func (b *bundle) call(t *testing.T, method, path string, body any) response {
	t.Helper()
	return b.callAs(t, "Bearer "+testKey, method, path, body)
}

func (b *bundle) callAs(t *testing.T, authz, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	return response{Status: rec.Code, Body: rec.Body.Bytes()}
}

// decode parses the response into out, failing the test on a status other than want.
func (r response) decode(t *testing.T, want int, out any) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("decode %s: %v", r.Body, err)
		}
	}
}

type apiError struct {
	Error struct {
		Code, Message, Field string
	}
}

// expectError checks the status, code and field of an error response.
func (r response) expectError(t *testing.T, status int, code, field string) {
	t.Helper()
	var e apiError
	r.decode(t, status, &e)
	if e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Errorf("error %+v, want code %s field %q", e.Error, code, field)
	}
}

type contactOut struct {
	ID         int64          `json:"id"`
	LoyaltyID  *string        `json:"loyalty_id"`
	Phones     []string       `json:"phones"`
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
	Timezone   string         `json:"timezone"`
	CreatedAt  time.Time      `json:"created_at"`
}

type conversationOut struct {
	ID            int64     `json:"id"`
	Brand         string    `json:"brand"`
	ContactID     int64     `json:"contact_id"`
	Status        string    `json:"status"`
	Assignee      *string   `json:"assignee"`
	LastMessageAt time.Time `json:"last_message_at"`
}

type messageOut struct {
	ID        int64         `json:"id"`
	Direction string        `json:"direction"`
	Body      string        `json:"body"`
	Media     []store.Media `json:"media"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Status    string        `json:"status"`
	TwilioSID *string       `json:"twilio_sid"`
	CreatedAt time.Time     `json:"created_at"`
}

type list[T any] struct {
	Data []T    `json:"data"`
	Next string `json:"next"`
}

type one[T any] struct {
	Data T `json:"data"`
}

// text stores an inbound text through the real receive_inbound function.
func (b *bundle) text(t *testing.T, brand store.Brand, from, body string, at time.Time, media ...store.Media) store.InboundResult {
	t.Helper()
	b.sid++
	res, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{
		SID: fmt.Sprintf("SM%032d", b.sid), BrandID: brand.ID, From: from, To: brand.Numbers[0].Number,
		Body: body, Media: media, ReceivedAt: at, Segments: 1, Encoding: "GSM-7",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// counts is what a contact upsert can write, to prove a refused one wrote nothing.
func (b *bundle) counts(t *testing.T) string {
	t.Helper()
	var c, p, ce, m, cv, msg int
	err := b.st.Pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM contact_phones),
		(SELECT count(*) FROM consent_events), (SELECT count(*) FROM contact_merges),
		(SELECT count(*) FROM conversations WHERE merged_into IS NULL), (SELECT count(*) FROM messages WHERE conversation_id IS NOT NULL)`).
		Scan(&c, &p, &ce, &m, &cv, &msg)
	if err != nil {
		t.Fatal(err)
	}
	var owners string
	if err := b.st.Pool.QueryRow(b.ctx, `SELECT coalesce(string_agg(phone || '=' || contact_id, ',' ORDER BY phone), '') FROM contact_phones`).Scan(&owners); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("contacts=%d phones=%d consent=%d merges=%d live_conversations=%d threaded=%d owners=%s", c, p, ce, m, cv, msg, owners)
}

var t0 = time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC)

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, authz := range []string{"", "Bearer ", "Bearer wrong-key", "Basic " + testKey, testKey} {
		for _, path := range []string{"/api/v1/contacts?phone=2125550100", "/api/v1/conversations", "/api/v1/nope"} {
			b.callAs(t, authz, http.MethodGet, path, nil).expectError(t, http.StatusUnauthorized, "unauthorized", "")
		}
	}
	// A revoked key is refused.
	if _, err := b.st.CreateAPIKey(b.ctx, "old", "pk_revoked_0000000000"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE api_keys SET revoked_at = now() WHERE name = 'old'`); err != nil {
		t.Fatal(err)
	}
	b.callAs(t, "Bearer pk_revoked_0000000000", http.MethodGet, "/api/v1/conversations", nil).expectError(t, http.StatusUnauthorized, "unauthorized", "")
	// A refused PUT writes nothing.
	before := b.counts(t)
	b.callAs(t, "", http.MethodPut, "/api/v1/contacts", map[string]any{"phones": []string{"+12125550100"}}).expectError(t, http.StatusUnauthorized, "unauthorized", "")
	if after := b.counts(t); after != before {
		t.Errorf("unauthorized PUT wrote: %s", after)
	}
	// The key works; the OpenAPI document needs none.
	b.call(t, http.MethodGet, "/api/v1/conversations", nil).decode(t, http.StatusOK, nil)
	b.callAs(t, "", http.MethodGet, "/api/v1/openapi.json", nil).decode(t, http.StatusOK, nil)
}
