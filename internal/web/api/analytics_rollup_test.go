package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/store"
)

// TestAnalyticsRollupsMatchRaw: every figure read through the rollups is
// the raw read's, byte for byte, on the hand-built week (DST's end, local
// days and hours), after a first fold, after texts, closes and a status
// callback that arrive behind the watermark or after it, after a second
// pass and an idle third (nothing counted twice), and in a zone 5:45
// ahead of UTC, before the topics' days are refolded in it and after.
func TestAnalyticsRollupsMatchRaw(t *testing.T) {
	t.Parallel()
	w := analyticsSetup(t)
	refresher := analytics.NewRefresher(w.st, slog.New(slog.DiscardHandler))
	today := time.Now().In(mustZone(t, "America/New_York")).Format(time.DateOnly)
	paths := []string{}
	for _, kind := range []string{"volume", "response-times", "delivery", "consent", "topics"} {
		for _, q := range []string{period, "brand=demohotel&from=2026-11-01&to=2026-11-02&granularity=hour",
			"brand=demohotel&from=2026-10-20&to=2026-11-30", "brand=demohotel&from=" + today + "&to=" + today + "&granularity=hour"} {
			paths = append(paths, "/api/v1/analytics/"+kind+"?"+q)
		}
	}
	get := func(path string, raw bool) []byte {
		w.st.RawAnalytics.Store(raw)
		defer w.st.RawAnalytics.Store(false)
		res := w.call(t, http.MethodGet, path, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
		return res.Body
	}
	same := func(stage string) {
		t.Helper()
		for _, p := range paths {
			if raw, rolled := get(p, true), get(p, false); !bytes.Equal(raw, rolled) {
				t.Fatalf("%s: %s\nraw    %s\nrollup %s", stage, p, raw, rolled)
			}
		}
	}
	refresh := func() store.RefreshResult {
		t.Helper()
		if ran, err := refresher.Refresh(w.ctx); err != nil || !ran {
			t.Fatalf("refresh: ran %v, %v", ran, err)
		}
		var r store.RefreshResult
		if err := w.st.Pool.QueryRow(w.ctx, `SELECT folded_to FROM analytics_state`).Scan(&r.To); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Each folded slot holds exactly the texts stored in it.
	folded := func(stage string) {
		t.Helper()
		var rolled, stored, waits int
		if err := w.st.Pool.QueryRow(w.ctx, `SELECT (SELECT coalesce(sum(texts), 0) FROM analytics_message_slots),
			(SELECT count(*) FROM messages WHERE created_at < (SELECT folded_to FROM analytics_state)),
			(SELECT count(*) FROM analytics_waits WHERE brand_id = $1)`, w.hotel.ID).Scan(&rolled, &stored, &waits); err != nil {
			t.Fatal(err)
		}
		if rolled != stored || waits == 0 {
			t.Fatalf("%s: %d texts in the rollups, %d stored before the watermark, %d waits", stage, rolled, stored, waits)
		}
		// And the topics' days every customer text with words.
		var topicTexts, customerTexts, terms int
		if err := w.st.Pool.QueryRow(w.ctx, `SELECT (SELECT coalesce(sum(texts), 0) FROM analytics_topic_totals),
			(SELECT count(*) FROM messages WHERE created_at < (SELECT folded_to FROM analytics_state) AND direction = 'inbound' AND body <> ''),
			(SELECT count(*) FROM analytics_topic_days WHERE brand_id = $1)`, w.hotel.ID).Scan(&topicTexts, &customerTexts, &terms); err != nil {
			t.Fatal(err)
		}
		if topicTexts != customerTexts || terms == 0 {
			t.Fatalf("%s: %d texts in the topics' days, %d customer texts before the watermark, %d terms", stage, topicTexts, customerTexts, terms)
		}
		loc := mustZone(t, "America/New_York")
		r, err := w.st.AnalyticsTopicsRead(w.ctx, w.hotel.ID, loc, time.Date(2026, 10, 25, 0, 0, 0, 0, loc), time.Date(2026, 11, 1, 0, 0, 0, 0, loc),
			time.Date(2026, 11, 8, 0, 0, 0, 0, loc), 100)
		if err != nil || !r.Usable || len(r.Sums) == 0 {
			t.Fatalf("%s: the topics rollup does not answer: %+v %v", stage, r, err)
		}
	}
	delivery := func() map[string]int {
		var out struct {
			Data   []map[string]any `json:"data"`
			Errors []struct{ Code, Count int }
		}
		w.call(t, http.MethodGet, "/api/v1/analytics/delivery?"+period, nil).decode(t, http.StatusOK, &out)
		sum := map[string]int{}
		for _, d := range out.Data {
			for _, k := range []string{"sent", "delivered", "undelivered", "failed"} {
				sum[k] += int(d[k].(float64))
			}
		}
		for _, e := range out.Errors {
			sum[fmt.Sprint("error ", e.Code)] = e.Count
		}
		return sum
	}

	same("before any fold (everything raw)")
	if r := refresh(); time.Since(r.To) > 20*time.Minute || time.Since(r.To) < store.FoldMargin {
		t.Fatalf("watermark %s, now %s", r.To, time.Now())
	}
	folded("first fold")
	same("first fold")
	before := delivery()

	// Behind the watermark: a text replayed from the spool into the week
	// (a new wait of A, answered), a late close of C, and a late callback:
	// B's auto-reply, "sent", is now undelivered with 30003.
	w.msg(t, w.convA, "inbound", "customer", "conversational", "received", "2026-11-02T12:00:00Z", 1, 0, "and breakfast?")
	w.exec(t, `INSERT INTO conversation_activity (conversation_id, kind, created_at) VALUES ($1, 'closed', '2026-11-01T05:00:00Z')`, w.convA)
	w.msg(t, w.convA, "outbound", "agent", "conversational", "delivered", "2026-11-02T12:07:00Z", 1, 0, "From 7")
	w.exec(t, `INSERT INTO conversation_activity (conversation_id, kind, created_at) VALUES ($1, 'closed', '2026-11-02T07:00:00Z')`, w.convC)
	w.exec(t, `UPDATE messages SET twilio_sid = 'SMlate' WHERE conversation_id = $1 AND origin = 'auto_reply'`, w.convB)
	if out, err := w.st.ApplyStatus(w.ctx, store.StatusUpdate{SID: "SMlate", Status: "undelivered", Rank: outbound.Ranks["undelivered"],
		ErrorCode: 30003}, outbound.Ranks); err != nil || out != store.StatusApplied {
		t.Fatalf("callback: %v %v", out, err)
	}
	var dirty, texts int
	if err := w.st.Pool.QueryRow(w.ctx, `SELECT count(*), count(*) FILTER (WHERE texts) FROM analytics_dirty`).Scan(&dirty, &texts); err != nil || dirty < 5 || texts != 1 {
		t.Fatalf("%d changes logged, %d of customer texts (%v), want at least 5, and 1 (the replayed text)", dirty, texts, err)
	}
	// After the watermark: today, a customer waiting since an hour ago
	// (behind it once folded) is answered now, and writes again.
	w.msg(t, w.convB, "inbound", "customer", "conversational", "received", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), 1, 0, "hello?")
	// A next response before the watermark once folded (40 minutes ago),
	// and a text still waiting for the next when it is (30 minutes ago),
	// answered after it (below: "Here").
	w.msg(t, w.convB, "outbound", "agent", "conversational", "delivered", time.Now().Add(-40*time.Minute).UTC().Format(time.RFC3339), 1, 0, "Yes?")
	w.msg(t, w.convB, "inbound", "customer", "conversational", "received", time.Now().Add(-30*time.Minute).UTC().Format(time.RFC3339), 1, 0, "is the pool open")
	same("changes not folded yet")
	after := delivery()
	// The auto-reply moved from sent to undelivered; the agent's "From 7"
	// is one more delivered.
	if after["undelivered"] != before["undelivered"]+1 || after["delivered"] != before["delivered"]+1 ||
		after["sent"] != before["sent"]+1 || after["error 30003"] != 1 {
		t.Fatalf("the late callback: %v before, %v after", before, after)
	}

	refresh()
	folded("second fold")
	same("second fold")
	if got := delivery(); fmt.Sprint(got) != fmt.Sprint(after) {
		t.Fatalf("refolded delivery %v, want %v", got, after)
	}
	var stored struct {
		Pending bool
		Next    int
	}
	if err := w.st.Pool.QueryRow(w.ctx, `SELECT pending_since IS NOT NULL, coalesce(octet_length(next_responses), 0) / 16 FROM analytics_waits
		WHERE conversation_id = $1 ORDER BY started_at DESC LIMIT 1`, w.convB).Scan(&stored.Pending, &stored.Next); err != nil || !stored.Pending || stored.Next != 1 {
		t.Fatalf("B's open wait stored with a text pending %v and %d next responses (%v), want true and 1", stored.Pending, stored.Next, err)
	}
	w.msg(t, w.convB, "outbound", "agent", "conversational", "delivered", time.Now().UTC().Format(time.RFC3339), 1, 0, "Here")
	w.msg(t, w.convB, "inbound", "customer", "conversational", "received", time.Now().UTC().Format(time.RFC3339), 1, 0, "thanks")
	same("texts after the watermark")
	var long struct {
		Total struct {
			Next       statsOut       `json:"next_response"`
			AnsweredBy map[string]int `json:"answered_by"`
		} `json:"total"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/response-times?brand=demohotel&from=2026-10-20&to=2026-11-30", nil).decode(t, http.StatusOK, &long)
	if long.Total.Next.Count != 2 || long.Total.AnsweredBy["auto_reply_then_person"] != 1 {
		t.Fatalf("B's two next responses (20 minutes before the watermark, and across it), its auto-reply first: %v %v", long.Total.Next, long.Total.AnsweredBy)
	}
	refresh()
	refresh()
	folded("an idle pass")
	same("an idle pass")

	// A zone whose hours start at a quarter past UTC's.
	w.exec(t, `UPDATE brands SET timezone = 'Asia/Kathmandu' WHERE id = $1`, w.hotel.ID)
	same("Asia/Kathmandu")
	refresh() // the topics' days, refolded in the new zone
	var zone string
	if err := w.st.Pool.QueryRow(w.ctx, `SELECT zone FROM analytics_topic_zones WHERE brand_id = $1`, w.hotel.ID).Scan(&zone); err != nil || zone != "Asia/Kathmandu" {
		t.Fatalf("topics cut in %q (%v)", zone, err)
	}
	same("Asia/Kathmandu, refolded")
	var hours struct {
		Data []struct {
			Bucket  string `json:"bucket"`
			Inbound int    `json:"inbound"`
		} `json:"data"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/volume?brand=demohotel&from=2026-11-02&to=2026-11-02&granularity=hour", nil).decode(t, http.StatusOK, &hours)
	if b, _ := json.Marshal(hours.Data[9]); hours.Data[9].Bucket != "2026-11-02T09:00:00+05:45" || hours.Data[9].Inbound != 1 {
		t.Fatalf("09:00 +05:45 (03:15Z–04:15Z): %s", b)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestTopicsRollupPrunesABusyDay: a day of 4,000 texts, each with a word
// of its own, holds more terms than a day keeps (store.TopicPruneAt); the
// fold keeps the most frequent, and the topics read through the rollup
// rank the same terms with the same counts as the raw read, and say how
// far short a count may be.
func TestTopicsRollupPrunesABusyDay(t *testing.T) {
	t.Parallel()
	w := analyticsSetup(t)
	w.exec(t, `INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, purpose, origin, segments, created_at)
		SELECT c.id, c.brand_id, 'inbound', CASE WHEN g % 4 = 0 THEN 'late bag, refund w' || g ELSE 'refund w' || g END,
		       c.last_phone, '+15005550007', 'received', 'conversational', 'customer', 1,
		       timestamptz '2026-11-10T14:00:00Z' + g * interval '1 second'
		  FROM conversations c, generate_series(1, 4000) g WHERE c.id = $1`, w.convA)
	const q = "/api/v1/analytics/topics?brand=demohotel&from=2026-11-10&to=2026-11-10"
	type topics struct {
		Texts      int              `json:"texts"`
		CountError int              `json:"count_error"`
		Data       []map[string]any `json:"data"`
	}
	read := func(raw bool) topics {
		w.st.RawAnalytics.Store(raw)
		defer w.st.RawAnalytics.Store(false)
		var out topics
		w.call(t, http.MethodGet, q, nil).decode(t, http.StatusOK, &out)
		return out
	}
	raw := read(true)
	if ran, err := analytics.NewRefresher(w.st, slog.New(slog.DiscardHandler)).Refresh(w.ctx); err != nil || !ran {
		t.Fatalf("refresh: %v %v", ran, err)
	}
	var held, cutoff int
	if err := w.st.Pool.QueryRow(w.ctx, `SELECT (SELECT count(*) FROM analytics_topic_days WHERE brand_id = $1 AND day = '2026-11-10'),
		(SELECT cutoff FROM analytics_topic_totals WHERE brand_id = $1 AND day = '2026-11-10')`, w.hotel.ID).Scan(&held, &cutoff); err != nil {
		t.Fatal(err)
	}
	if held != store.TopicKeep || cutoff != 1 {
		t.Fatalf("the busy day keeps %d terms with cutoff %d, want %d and 1", held, cutoff, store.TopicKeep)
	}
	rolled := read(false)
	if raw.Texts != 4000 || rolled.Texts != 4000 || raw.CountError != 0 || rolled.CountError != 1 {
		t.Fatalf("texts %d raw, %d rolled up; count error %d raw, %d rolled up", raw.Texts, rolled.Texts, raw.CountError, rolled.CountError)
	}
	if a, b := fmt.Sprint(raw.Data), fmt.Sprint(rolled.Data); a != b || len(raw.Data) == 0 {
		t.Fatalf("raw %s\nrollup %s", a, b)
	}
	if top := raw.Data[0]; top["term"] != "refund" || top["count"] != float64(4000) {
		t.Fatalf("top topic %v", top)
	}
}
