package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/store"
)

// Revoking a key takes effect at the very next request, on every path: a
// plain read, a write, and the replay of an idempotent request the key
// made before (whose stored answer must not be handed out any more). A
// key of the same brands and scopes stays untouched.
func TestSecurityAPIKeyRevocationIsImmediate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	access := store.KeyAccess{AllBrands: true, AllScopes: true, Rate: 1000}
	doomed := b.keyWith(t, "pk_security_doomed_0001", access)
	other := b.keyWith(t, "pk_security_other_00001", access)
	segment := map[string]any{"brand": "demoair", "name": "Gold", "filter": map[string]any{"tiers": []string{"gold"}}}
	idem := func(authz string) response {
		t.Helper()
		return b.callWith(t, authz, http.MethodPost, "/api/v1/segments", segment, map[string]string{"Idempotency-Key": "revocation-test-1"})
	}
	if r := idem(doomed); r.Status != http.StatusCreated {
		t.Fatalf("create a segment: %d %s", r.Status, r.Body)
	}
	if r := idem(doomed); r.Status != http.StatusCreated {
		t.Fatalf("the replay before revocation: %d %s", r.Status, r.Body)
	}
	b.callAs(t, doomed, http.MethodGet, "/api/v1/me", nil).decode(t, http.StatusOK, nil)

	var id int64
	if err := b.st.Pool.QueryRow(b.ctx, `SELECT id FROM api_keys WHERE name = 'pk_security_doomed_0001'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	// What the admin page and `parley apikey revoke` call.
	if _, err := admin.RevokeAPIKey(b.ctx, b.st, id); err != nil {
		t.Fatal(err)
	}
	before := b.tableRows(t)
	for _, c := range []struct {
		what string
		r    func() response
	}{
		{"GET /me", func() response { return b.callAs(t, doomed, http.MethodGet, "/api/v1/me", nil) }},
		{"GET /conversations", func() response { return b.callAs(t, doomed, http.MethodGet, "/api/v1/conversations", nil) }},
		{"the idempotent replay", func() response { return idem(doomed) }},
		{"a new write", func() response { return b.callAs(t, doomed, http.MethodPost, "/api/v1/segments", segment) }},
	} {
		c.r().expectError(t, http.StatusUnauthorized, "unauthorized", "")
	}
	unchanged(t, "requests with a revoked key", before, b.tableRows(t))
	b.callAs(t, other, http.MethodGet, "/api/v1/me", nil).decode(t, http.StatusOK, nil)
}

// callWith is callAs with extra headers.
func (b *bundle) callWith(t *testing.T, authz, method, path string, body any, headers map[string]string) response {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", authz)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	return response{Status: rec.Code, Body: rec.Body.Bytes()}
}
