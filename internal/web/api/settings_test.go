package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

type settingsOut struct {
	Data map[string]any `json:"data"`
}

// GET returns exactly what PUT accepts: a GET's data sent back with one
// field changed changes that field only; a field left out keeps its value.
func TestBrandSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var got settingsOut
	b.call(t, http.MethodGet, "/api/v1/brands/demoair/settings", nil).decode(t, http.StatusOK, &got)
	for _, f := range []string{"timezone", "business_hours", "holidays", "after_hours_reply", "first_response_sla_seconds",
		"next_response_sla_seconds", "sla_business_hours", "assignment", "reassign_after_seconds", "auto_close_after_seconds",
		"auto_reply_limit_per_hour", "tier_priority", "opt_in_keyword", "csat"} {
		if _, ok := got.Data[f]; !ok {
			t.Errorf("GET settings lacks %s", f)
		}
	}
	if len(got.Data) != 14 || got.Data["business_hours"] != nil || got.Data["assignment"] != "manual" {
		t.Fatalf("defaults: %v", got.Data)
	}
	got.Data["assignment"] = "sticky_least_busy"
	b.call(t, http.MethodPut, "/api/v1/brands/demoair/settings", got.Data).decode(t, http.StatusOK, nil)

	b.call(t, http.MethodPut, "/api/v1/brands/demoair/settings", map[string]any{
		"business_hours": map[string]any{"mon": [][]string{{"09:00", "12:00"}, {"14:00", "18:00"}}, "sat": [][]string{}},
		"holidays":       []map[string]any{{"date": "2026-12-25", "name": "Christmas", "hours": [][]string{}}},
		"tier_priority":  map[string]int{"gold": 2},
	}).decode(t, http.StatusOK, nil)
	var after settingsOut
	b.call(t, http.MethodGet, "/api/v1/brands/demoair/settings", nil).decode(t, http.StatusOK, &after)
	if after.Data["assignment"] != "sticky_least_busy" {
		t.Errorf("a field left out of a PUT changed: assignment %v", after.Data["assignment"])
	}
	hours, _ := json.Marshal(after.Data["business_hours"])
	if string(hours) != `{"mon":[["09:00","12:00"],["14:00","18:00"]],"sat":[]}` {
		t.Errorf("business hours stored as %s", hours)
	}
	// null clears the schedule (always open again), but not while holidays
	// would be left replacing hours that no longer exist.
	b.call(t, http.MethodPut, "/api/v1/brands/demoair/settings", map[string]any{"business_hours": nil}).
		expectError(t, http.StatusBadRequest, "invalid_field", "holidays")
	b.call(t, http.MethodPut, "/api/v1/brands/demoair/settings", map[string]any{"business_hours": nil, "holidays": []any{}}).decode(t, http.StatusOK, &after)
	if after.Data["business_hours"] != nil {
		t.Errorf("business_hours null kept %v", after.Data["business_hours"])
	}
}

func TestBrandSettingsRefuseBadValues(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var before settingsOut
	b.call(t, http.MethodGet, "/api/v1/brands/demoair/settings", nil).decode(t, http.StatusOK, &before)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"business_hours": map[string]any{"mon": [][]string{{"25:00", "26:00"}}}}, "business_hours.mon[0]"},
		{map[string]any{"business_hours": map[string]any{"mon": [][]string{{"09:00", "13:00"}, {"12:00", "18:00"}}}}, "business_hours.mon"},
		{map[string]any{"business_hours": map[string]any{"monday": [][]string{}}}, "business_hours.monday"},
		{map[string]any{"holidays": []map[string]any{{"date": "25/12/2026"}}}, "holidays[0].date"},
		{map[string]any{"assignment": "random"}, "assignment"},
		{map[string]any{"timezone": "Mars/Olympus"}, "timezone"},
		{map[string]any{"after_hours_reply": "Back {{.Opens"}, "after_hours_reply"},
		{map[string]any{"auto_reply_limit_per_hour": 0}, "auto_reply_limit_per_hour"},
		{map[string]any{"first_response_sla_seconds": "fast"}, "first_response_sla_seconds"},
		{map[string]any{"colour": "blue"}, "colour"},
		{map[string]any{"holidays": []map[string]any{{"date": "2026-12-25"}}}, "holidays"},
	} {
		b.call(t, http.MethodPut, "/api/v1/brands/demoair/settings", c.body).expectError(t, http.StatusBadRequest, "invalid_field", c.field)
	}
	var after settingsOut
	b.call(t, http.MethodGet, "/api/v1/brands/demoair/settings", nil).decode(t, http.StatusOK, &after)
	if fmt.Sprint(after.Data) != fmt.Sprint(before.Data) {
		t.Fatalf("a refused PUT changed the settings: %v, then %v", before.Data, after.Data)
	}
	b.call(t, http.MethodGet, "/api/v1/brands/nobrand/settings", nil).expectError(t, http.StatusNotFound, "brand_not_found", "slug")
}

type ruleOut struct {
	ID          int64  `json:"id"`
	Position    int    `json:"position"`
	Match       string `json:"match"`
	Pattern     string `json:"pattern"`
	Reply       string `json:"reply"`
	HandToAgent bool   `json:"hand_to_agent"`
}

func TestAutoRepliesCRUD(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const path = "/api/v1/brands/demoair/auto-replies"
	var ids []int64
	for i, pattern := range []string{"hours", "menu", "parking"} {
		var out struct{ Data ruleOut }
		b.call(t, http.MethodPost, path, map[string]any{"match": "first_word", "pattern": pattern, "reply": "About " + pattern}).
			decode(t, http.StatusCreated, &out)
		if out.Data.Position != i+1 || out.Data.Pattern != pattern {
			t.Fatalf("created %+v", out.Data)
		}
		ids = append(ids, out.Data.ID)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"match": "regex", "pattern": "(unclosed", "reply": "x"}, "pattern"},
		{map[string]any{"match": "fuzzy", "pattern": "x", "reply": "x"}, "match"},
		{map[string]any{"match": "exact", "pattern": "x", "reply": "Hi {{.FirstName"}, "reply"},
		{map[string]any{"match": "exact", "pattern": "x", "reply": "x", "colour": "red"}, "colour"},
	} {
		b.call(t, http.MethodPost, path, c.body).expectError(t, http.StatusBadRequest, "invalid_field", c.field)
	}
	// Position 0 keeps a rule in its place; moving "hours" and "menu" after
	// "parking" changes the order they are tried in.
	var moved struct{ Data ruleOut }
	b.call(t, http.MethodPut, fmt.Sprintf("%s/%d", path, ids[2]), map[string]any{"match": "contains",
		"pattern": "parking", "reply": "Lot B", "hand_to_agent": true}).decode(t, http.StatusOK, &moved)
	if moved.Data.Position != 3 || !moved.Data.HandToAgent || moved.Data.Match != "contains" {
		t.Fatalf("updated %+v", moved.Data)
	}
	for i, id := range ids[:2] {
		b.call(t, http.MethodPut, fmt.Sprintf("%s/%d", path, id), map[string]any{"position": 5 + i, "match": "first_word",
			"pattern": []string{"hours", "menu"}[i], "reply": "moved"}).decode(t, http.StatusOK, nil)
	}
	var order []int64
	next := path + "?limit=1"
	for next != "" {
		var pg struct {
			Data []ruleOut
			Next string
		}
		b.call(t, http.MethodGet, next, nil).decode(t, http.StatusOK, &pg)
		for _, r := range pg.Data {
			order = append(order, r.ID)
		}
		next = pg.Next
		if len(order) > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(order) != fmt.Sprint([]int64{ids[2], ids[0], ids[1]}) {
		t.Fatalf("listed %v, want %v", order, []int64{ids[2], ids[0], ids[1]})
	}
	if r := b.call(t, http.MethodDelete, fmt.Sprintf("%s/%d", path, ids[0]), nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	b.call(t, http.MethodDelete, fmt.Sprintf("%s/%d", path, ids[0]), nil).expectError(t, http.StatusNotFound, "not_found", "")
	// Another brand's rule is not reachable through this brand.
	b.call(t, http.MethodPut, fmt.Sprintf("/api/v1/brands/demohotel/auto-replies/%d", ids[1]), map[string]any{"match": "exact",
		"pattern": "x", "reply": "y"}).expectError(t, http.StatusNotFound, "not_found", "")
}

// Concurrent PUTs of different fields all keep their change: each reads,
// merges and writes under the brand's lock.
func TestBrandSettingsConcurrentPutsKeepEveryField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bodies := []map[string]any{
		{"assignment": "sticky_least_busy"}, {"auto_reply_limit_per_hour": 7}, {"reassign_after_seconds": 120},
		{"after_hours_reply": "Back {{.Opens}}."}, {"auto_close_after_seconds": 3600}, {"next_response_sla_seconds": 600},
	}
	var wg sync.WaitGroup
	for _, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := b.call(t, http.MethodPut, "/api/v1/brands/demoair/settings", body); r.Status != http.StatusOK {
				t.Errorf("PUT %v: %d %s", body, r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	var got settingsOut
	b.call(t, http.MethodGet, "/api/v1/brands/demoair/settings", nil).decode(t, http.StatusOK, &got)
	for _, body := range bodies {
		for k, v := range body {
			if fmt.Sprint(got.Data[k]) != fmt.Sprint(v) {
				t.Errorf("%s = %v after concurrent PUTs, want %v", k, got.Data[k], v)
			}
		}
	}
}
