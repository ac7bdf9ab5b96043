package question

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// Answers in words are listened to as customers' texts are: the terms held
// by the most answers, with examples (ask ids), over every page read.
func TestFreeTextTopics(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	yes := true
	q := store.Question{ID: 1, Kind: string(FreeText)}
	var r Results
	answers := []string{"the crew was lovely", "lovely crew, cold food", "cold food again", "the seat was broken", "crew was lovely"}
	for i, text := range answers {
		row := store.AnswerRow{ID: int64(i + 1), QuestionID: 1, State: "answered", Parsed: &yes, Text: text, AnsweredAt: &at}
		r.add(q, []store.AnswerRow{row}, time.UTC) // a page each
	}
	r.finish(q)
	got := map[string]int{}
	for _, tp := range r.Topics {
		got[tp.Term] = tp.Count
	}
	if got["crew"] != 3 || got["lovely"] != 3 || got["cold food"] != 2 || got["seat"] != 0 {
		t.Fatalf("topics %+v", r.Topics)
	}
	if r.Topics[0].Examples[0].ID == 0 || len(r.Topics[0].Examples) > 3 {
		t.Fatalf("examples %+v", r.Topics[0].Examples)
	}
	// A rating's comment is listened to; the rating itself is not words.
	var rr Results
	five := 5
	rq := store.Question{ID: 2, Kind: string(Rating)}
	for i, c := range []string{"slow boarding", "boarding was slow", ""} {
		rr.add(rq, []store.AnswerRow{{ID: int64(i + 1), QuestionID: 2, State: "answered", Parsed: &yes, Value: &five, Text: "5", Comment: c,
			AnsweredAt: &at}}, time.UTC)
	}
	rr.finish(rq)
	if len(rr.Topics) == 0 || rr.Topics[0].Count != 2 {
		t.Fatalf("rating comments' topics %+v", rr.Topics)
	}
}
