package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// lazyBody is n bytes of filler made as they are read, starting with a
// JSON object's opening so that it looks like a body worth reading.
type lazyBody struct{ n, off int64 }

func (l *lazyBody) Read(p []byte) (int, error) {
	if l.off >= l.n {
		return 0, io.EOF
	}
	k := int64(len(p))
	if rest := l.n - l.off; k > rest {
		k = rest
	}
	for i := range p[:k] {
		p[i] = 'a'
		if l.off+int64(i) < 8 {
			p[i] = `{"name":`[l.off+int64(i)]
		}
	}
	l.off += k
	return int(k), nil
}

// raw sends body as is with a content type, under the test key.
func (b *bundle) raw(method, path, contentType string, body io.Reader, size int64) response {
	req := httptest.NewRequest(method, path, body)
	req.ContentLength = size
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	return response{Status: rec.Code, Body: rec.Body.Bytes()}
}

// unchanged compares two tableRows but for what every request may write
// (its audit entry, an idempotency claim).
func unchanged(t *testing.T, what string, before, after map[string]int64) {
	t.Helper()
	for name, n := range before {
		if slices.Contains([]string{"audit_log", "idempotency_keys"}, name) {
			continue
		}
		if after[name] != n {
			t.Errorf("%s: table %s went from %d to %d rows", what, name, n, after[name])
		}
	}
}

// noBody are the API's POST, PUT and DELETE routes that read no body:
// they answer a bad one by doing what they do. A new route that reads a
// body needs nothing here; one that reads none must be listed.
var noBody = []string{
	"DELETE /api/v1/brands/:slug/auto-replies/:id", "POST /api/v1/campaigns/:id/pause", "POST /api/v1/campaigns/:id/resume",
	"POST /api/v1/campaigns/:id/cancel", "DELETE /api/v1/triggers/:id", "DELETE /api/v1/webhooks/:id", "POST /api/v1/webhooks/:id/test",
}

// Oversized and malformed requests on every API route: a body past the
// route's limit is 413 (declared, or found while reading), broken JSON, a
// JSON array, a NUL character and a wrong content type are each a clear
// 4xx, nothing is stored, and no answer is a 5xx. Every route also takes a
// 64 KiB query string and repeated parameters without a 5xx, and a key of
// one brand naming two gets only its own brand's rows.
func TestSecurityAPIMalformedRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.text(t, b.hotel, "+12125550123", "hotel "+secretWord, time.Now())
	b.text(t, b.air, "+12125550124", "air", time.Now())
	cp, err := b.st.CreateCampaign(b.ctx, store.Campaign{BrandID: b.air.ID, Name: "Spring", Variants: []string{"Hi"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE campaigns SET state = 'running' WHERE id = $1`, cp.ID); err != nil {
		t.Fatal(err)
	}
	trig, err := b.st.SaveTrigger(b.ctx, store.Trigger{BrandID: b.air.ID, EventType: "checked_in", Enabled: true,
		Spec: []byte(`{"brand": "demoair", "event_type": "checked_in", "delay": "0s", "template": "Welcome", "purpose": "conversational"}`)})
	if err != nil {
		t.Fatal(err)
	}
	rule, err := b.st.SaveAutoReply(b.ctx, store.AutoReply{BrandID: b.air.ID, Match: "exact", Pattern: "hours", Reply: "9 to 5"})
	if err != nil {
		t.Fatal(err)
	}
	// :id names a live object of the route's kind, so that a refusal is
	// the body's and not a 404.
	path := func(p string) string {
		p = strings.ReplaceAll(p, ":slug", "demoair")
		p = strings.ReplaceAll(p, `\:`, ":")
		id := cp.ID
		switch {
		case strings.HasPrefix(p, "/api/v1/triggers/"):
			id = trig.ID
		case strings.Contains(p, "/auto-replies/"):
			id = rule.ID
		}
		return strings.ReplaceAll(p, ":id", fmt.Sprint(id))
	}
	var routes []string
	for _, r := range b.e.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") && !strings.HasSuffix(r.Path, "/*") {
			routes = append(routes, r.Method+" "+r.Path)
		}
	}
	slices.Sort(routes)
	if len(routes) < 40 {
		t.Fatalf("only %d API routes", len(routes))
	}
	for _, rt := range routes {
		method, route, _ := strings.Cut(rt, " ")
		p := path(route)
		if method == http.MethodGet {
			r := b.call(t, method, p+"?q="+strings.Repeat("A", 64<<10), nil)
			refusedCleanly(t, rt+" with a 64 KiB query string", r)
			continue
		}
		limit := int64(1 << 20)
		contentType := "application/json"
		switch route {
		case "/api/v1/contacts/import":
			limit, contentType = 64<<20, "text/csv"
			p += "?brand=demoair"
		case `/api/v1/events\:batch`:
			limit = 8 << 20
		}
		before := b.tableRows(t)
		// Declared past the limit: refused before reading.
		r := b.raw(method, p, contentType, &lazyBody{n: limit + 1}, limit+1)
		if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.Body), "payload_too_large") {
			t.Errorf("%s with a declared %d-byte body: %d %.200s, want 413 payload_too_large", rt, limit+1, r.Status, r.Body)
		}
		unchanged(t, rt+" with a declared body past the limit", before, b.tableRows(t))
		if slices.Contains(noBody, rt) {
			continue // it would do its work without reading what follows
		}
		// Undeclared (chunked) and past the limit: cut off while reading.
		r = b.raw(method, p, contentType, &lazyBody{n: limit + 1}, -1)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with an undeclared %d-byte body: %d %.200s, want 413", rt, limit+1, r.Status, r.Body)
		}
		unchanged(t, rt+" with an undeclared body past the limit", before, b.tableRows(t))
		if contentType != "application/json" {
			if contentType == "text/csv" {
				r := b.raw(method, p, "application/json", strings.NewReader(`{"phone": "+12125550100"}`), -1)
				if r.Status != http.StatusUnsupportedMediaType {
					t.Errorf("%s with JSON: %d, want 415", rt, r.Status)
				}
				unchanged(t, rt+" with the wrong content type", before, b.tableRows(t))
			}
			continue
		}
		for _, c := range []struct {
			what, contentType, body string
			want                    int
		}{
			{"broken JSON", "application/json", `{"brand": "demoair", "name": `, http.StatusBadRequest},
			{"a JSON array", "application/json", `[{"brand": "demoair"}]`, http.StatusBadRequest},
			{"two JSON objects", "application/json", `{} {}`, http.StatusBadRequest},
			{"a NUL character", "application/json", `{"brand": "demoair", "name": "a\u0000b", "body": "x\u0000"}`, http.StatusBadRequest},
			{"invalid UTF-8", "application/json", "{\"brand\": \"demo\xffair\", \"name\": \"\xc3\x28\"}", 0},
			{"a form", "application/x-www-form-urlencoded", `brand=demoair&name=x`, http.StatusUnsupportedMediaType},
			{"text", "text/plain", `{"brand": "demoair"}`, http.StatusUnsupportedMediaType},
			{"no content type", "", `{"brand": "demoair"}`, http.StatusUnsupportedMediaType},
		} {
			r := b.raw(method, p, c.contentType, strings.NewReader(c.body), int64(len(c.body)))
			refusedCleanly(t, rt+" with "+c.what, r)
			if c.want != 0 && r.Status != c.want {
				t.Errorf("%s with %s: %d %.200s, want %d", rt, c.what, r.Status, r.Body, c.want)
			}
			if r.Status >= 300 {
				unchanged(t, rt+" with "+c.what, before, b.tableRows(t))
			}
		}
	}

	// Repeated parameters: a demoair key naming demoair and then
	// demohotel (or the other way round) never reads demohotel's rows.
	air := b.keyWith(t, "pk_security_air_only_01", store.KeyAccess{BrandIDs: []int64{b.air.ID}, AllScopes: true, Rate: 1000})
	for _, q := range []string{"brand=demoair&brand=demohotel", "brand=demohotel&brand=demoair"} {
		for _, p := range []string{"/api/v1/conversations", "/api/v1/analytics/topics", "/api/v1/analytics/volume", "/api/v1/contacts/export",
			"/api/v1/consent/export", "/api/v1/analytics/conversations.csv", "/api/v1/campaigns", "/api/v1/segments", "/api/v1/triggers", "/api/v1/webhooks"} {
			r := b.callAs(t, air, http.MethodGet, p+"?"+q, nil)
			refusedCleanly(t, "GET "+p+"?"+q, r)
			if strings.Contains(string(r.Body), secretWord) || strings.Contains(string(r.Body), `"brand":"demohotel"`) {
				t.Errorf("GET %s?%s with a demoair key shows demohotel: %.300s", p, q, r.Body)
			}
		}
	}
	var conv list[conversationOut]
	b.callAs(t, air, http.MethodGet, "/api/v1/conversations?brand=demoair&brand=demohotel", nil).decode(t, http.StatusOK, &conv)
	if len(conv.Data) != 1 || conv.Data[0].Brand != "demoair" {
		t.Errorf("repeated brand lists %+v, want the one demoair conversation", conv.Data)
	}
}

// secretWord is in demohotel's text only.
const secretWord = "HOTELONLYSECRET"
