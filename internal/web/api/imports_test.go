package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// POST /api/v1/contacts/import takes a CSV and answers 202 with an id at
// once; GET on the id shows the progress and the skipped rows.
func TestImportThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const file = "phone,name,consent_status\n+12125550901,Ana,opted_in\nbad phone,Bad,\n+12125550902,Ben,\n"
	req := httptest.NewRequest(http.MethodPost, "/api/v1/contacts/import?brand=demoair", strings.NewReader(file))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	var started struct {
		Data struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &started); err != nil || started.Data.ID == 0 {
		t.Fatalf("%s %v", rec.Body, err)
	}
	var got struct {
		Data struct {
			Status   string `json:"status"`
			Rows     int    `json:"rows"`
			Imported int    `json:"imported"`
			Skipped  int    `json:"skipped"`
			Errors   []struct {
				Line   int    `json:"line"`
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"data"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for got.Data.Status != "completed" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		res := b.call(t, http.MethodGet, fmt.Sprintf("/api/v1/contacts/import/%d", started.Data.ID), nil)
		res.decode(t, http.StatusOK, &got)
	}
	d := got.Data
	if d.Status != "completed" || d.Rows != 3 || d.Imported != 2 || d.Skipped != 1 || len(d.Errors) != 1 || d.Errors[0].Line != 3 ||
		!strings.Contains(d.Errors[0].Reason, "invalid phone") {
		t.Fatalf("import %+v", d)
	}
	if res := b.call(t, http.MethodPost, "/api/v1/contacts/import?brand=demoair", "phone\n+12125550903\n"); res.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("a JSON content type: %d", res.Status)
	}
}
