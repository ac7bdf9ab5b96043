package api_test

import (
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/store"
)

// API writes are in the audit log with the key's name; GET /api/v1/audit
// filters, pages by keyset, answers CSV, and shows a key of one brand only
// that brand's entries. Reads, refusals and idempotent replays are not
// entries.
func TestAuditAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	airKey := b.keyWith(t, "pk_air_audit_0123456789", store.KeyAccess{BrandIDs: []int64{b.air.ID}, AllScopes: true, Rate: 1000})
	b.call(t, "PUT", "/api/v1/brands/demohotel/settings", map[string]any{"assignment": "manual"}).decode(t, http.StatusOK, nil)
	b.call(t, "GET", "/api/v1/brands/demohotel/settings", nil).decode(t, http.StatusOK, nil)
	if r := b.call(t, "PUT", "/api/v1/brands/demohotel/settings", map[string]any{"assignment": "boss"}); r.Status != http.StatusBadRequest {
		t.Fatalf("bad settings: %d", r.Status)
	}
	b.callAs(t, airKey, "PUT", "/api/v1/brands/demoair/settings", map[string]any{"assignment": "manual"}).decode(t, http.StatusOK, nil)

	var all struct {
		Data []struct {
			ID                                          int64
			Actor, ActorType, Action, Target, RequestID string
			BrandID                                     *int64 `json:"brand_id"`
			Status                                      int
		}
		Next string
	}
	b.call(t, "GET", "/api/v1/audit", nil).decode(t, http.StatusOK, &all)
	if len(all.Data) != 2 {
		t.Fatalf("entries: %+v, want the two accepted writes", all.Data)
	}
	first, second := all.Data[1], all.Data[0] // newest first
	if first.Actor != "test" || first.Action != "api.put:/brands/:slug/settings" || first.Target != "brand:demohotel" || first.Status != 200 {
		t.Errorf("first write: %+v", first)
	}
	if second.Actor != "pk_air_audit_0123456789" || second.BrandID == nil || *second.BrandID != b.air.ID {
		t.Errorf("the one-brand key's write: %+v", second)
	}
	var mine struct{ Data []struct{ Actor string } }
	b.callAs(t, airKey, "GET", "/api/v1/audit", nil).decode(t, http.StatusOK, &mine)
	if len(mine.Data) != 1 || mine.Data[0].Actor != "pk_air_audit_0123456789" {
		t.Errorf("a one-brand key sees %+v, want only its brand's entry", mine.Data)
	}
	var paged struct {
		Data []struct{ ID int64 }
		Next string
	}
	b.call(t, "GET", "/api/v1/audit?limit=1", nil).decode(t, http.StatusOK, &paged)
	if len(paged.Data) != 1 || paged.Data[0].ID != all.Data[0].ID || !strings.Contains(paged.Next, "before=") {
		t.Fatalf("limit 1: %+v", paged)
	}
	next := paged.Next
	paged.Next = ""
	b.call(t, "GET", next, nil).decode(t, http.StatusOK, &paged)
	if len(paged.Data) != 1 || paged.Data[0].ID != all.Data[1].ID || paged.Next != "" {
		t.Errorf("the next page: %+v", paged)
	}
	var onlyTest struct{ Data []struct{ Actor string } }
	b.call(t, "GET", "/api/v1/audit?actor=test", nil).decode(t, http.StatusOK, &onlyTest)
	if len(onlyTest.Data) != 1 || onlyTest.Data[0].Actor != "test" {
		t.Errorf("actor=test: %+v", onlyTest.Data)
	}
	if r := b.call(t, "GET", "/api/v1/audit?since=soon", nil); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"since"`) {
		t.Errorf("bad since: %d %s", r.Status, r.Body)
	}
	req := httptest.NewRequest("GET", "/api/v1/audit?action=api.put:/brands/:slug/settings", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Accept", "text/csv")
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	recs, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil || rec.Code != 200 || len(recs) != 3 || recs[0][3] != "actor" {
		t.Errorf("CSV: %d %v %q", rec.Code, err, recs)
	}
}
