package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A marketer saves a trigger from the console (a condition that does not
// compile is refused naming the field, and nothing is saved), sees it with
// its runs and question, and deletes it; an agent cannot see the pages.
func TestTriggerPages(t *testing.T) {
	env, users := setup(t)
	mb := newBrowser(t, env)
	mb.login(t, users["marketer"], "correct horse marketer")
	resp, page := mb.do(t, http.MethodGet, "/triggers", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "No trigger yet") {
		t.Fatalf("triggers page: %d", resp.StatusCode)
	}
	csrf := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page)[1]
	form := url.Values{"brand": {env.Brand.Slug}, "name": {"How was the flight"}, "event_type": {"flight_completed"},
		"conditions": {`data.cabin ==`}, "delay": {"2h"}, "template": {"How was flight {{.Event.flight}}? Reply 1-5"},
		"purpose": {"conversational"}, "question_kind": {"rating"}, "follow_negative": {"Sorry to hear that."}}
	if resp, body := post(t, mb, "/triggers", csrf, form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "conditions") {
		t.Fatalf("a bad condition: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM triggers`); n != 0 {
		t.Fatal("a refused form saved a trigger")
	}
	form.Set("conditions", `data.cabin == "business"`)
	resp, _ = post(t, mb, "/triggers", csrf, form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/triggers/") {
		t.Fatalf("save: %d %s", resp.StatusCode, loc)
	}
	path, _, _ := strings.Cut(loc, "?")
	_, page = mb.do(t, http.MethodGet, path, nil)
	if !strings.Contains(page, "How was the flight") || !strings.Contains(page, "2h0m0s later") || !strings.Contains(page, "0 answers of 0 asked") {
		t.Fatalf("the trigger page:\n%s", page)
	}
	var q int
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM triggers t JOIN questions q ON q.id = t.question_id
		WHERE q.kind = 'rating' AND q.follow_ups ->> 'negative' = 'Sorry to hear that.'`).Scan(&q); err != nil || q != 1 {
		t.Fatalf("the question was not saved with its follow-up (%d, %v)", q, err)
	}
	ab, _ := signedIn(t, env, users, "agent")
	if resp, _ := ab.do(t, http.MethodGet, path, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent on a trigger page: %d, want 403", resp.StatusCode)
	}
	if resp, _ := post(t, mb, path+"/delete", csrf, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM triggers WHERE deleted_at IS NOT NULL`); n != 1 {
		t.Fatal("the trigger is not deleted")
	}
	if resp, _ := mb.do(t, http.MethodGet, path, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a deleted trigger's page: %d, want 404", resp.StatusCode)
	}
}
