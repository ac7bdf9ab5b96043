package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// analyticsWorld is a hand-built week of demohotel (America/New_York)
// around the end of daylight saving time, 2026-11-01 02:00 EDT.
type analyticsWorld struct {
	*bundle
	convA, convB, convC int64
	campaign            int64
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func analyticsSetup(t *testing.T) *analyticsWorld {
	t.Helper()
	w := &analyticsWorld{bundle: setup(t)}
	first := func(n int, phone, body, at string) int64 {
		res, err := w.st.ReceiveInbound(w.ctx, []store.InboundRow{{SID: fmt.Sprintf("SM%032d", n), BrandID: w.hotel.ID, From: phone,
			To: "+15005550007", Body: body, ReceivedAt: utc(at), Segments: 1, Encoding: "GSM-7"}})
		if err != nil {
			t.Fatal(err)
		}
		w.exec(t, `UPDATE messages SET created_at = $2 WHERE id = $1`, res[0].MessageID, utc(at))
		w.exec(t, `UPDATE conversations SET created_at = $2 WHERE id = $1`, res[0].ConversationID, utc(at))
		return res[0].ConversationID
	}
	// A: Oct 31 23:30 EDT, answered by a person 10 minutes later.
	w.convA = first(1, "+12125550101", "wifi password please", "2026-11-01T03:30:00Z")
	w.msg(t, w.convA, "outbound", "agent", "conversational", "delivered", "2026-11-01T03:40:00Z", 2, 0, "It is hotel123")
	// B: Nov 1 23:30 EST (Nov 2 in UTC, and still Nov 1 only because the
	// clocks went back), an auto-reply, a person after 2 minutes, closed
	// after 30, and a reopening the next morning answered after 20.
	w.convB = first(2, "+12125550102", "the wifi is not working", "2026-11-02T04:30:00Z")
	w.msg(t, w.convB, "outbound", "auto_reply", "conversational", "sent", "2026-11-02T04:30:05Z", 1, 0, "We will be right with you")
	w.msg(t, w.convB, "outbound", "agent", "conversational", "failed", "2026-11-02T04:32:00Z", 1, 30007, "Try again")
	w.exec(t, `INSERT INTO conversation_activity (conversation_id, kind, created_at) VALUES ($1, 'closed', $2)`, w.convB, utc("2026-11-02T05:00:00Z"))
	w.msg(t, w.convB, "inbound", "customer", "conversational", "received", "2026-11-02T15:00:00Z", 1, 0, "thanks")
	w.msg(t, w.convB, "outbound", "agent", "conversational", "delivered", "2026-11-02T15:20:00Z", 1, 0, "You are welcome")
	// C: a campaign text, the customer's answer at Nov 1 23:10 EST and a
	// person's two hours later (Nov 2 01:10 EST).
	w.convC = first(3, "+12125550103", "what's the wifi password?", "2026-11-02T04:10:00Z")
	campaignText := w.msg(t, w.convC, "outbound", "campaign", "marketing", "delivered", "2026-11-01T14:00:00Z", 1, 0, "Our spa is open")
	w.msg(t, w.convC, "outbound", "agent", "conversational", "delivered", "2026-11-02T06:10:00Z", 1, 0, "Here it is")
	// The customer's text came after the campaign's: give it a later id, as
	// it would have had.
	w.exec(t, `UPDATE messages SET id = nextval(pg_get_serial_sequence('messages', 'id'))
		WHERE conversation_id = $1 AND direction = 'inbound'`, w.convC)
	w.exec(t, `UPDATE contacts SET name = '=HYPERLINK("http://x")' WHERE id = (SELECT contact_id FROM conversations WHERE id = $1)`, w.convC)
	w.exec(t, `UPDATE conversations SET labels = '{vip,wifi}' WHERE id = $1`, w.convC)
	cp, err := w.st.CreateCampaign(w.ctx, store.Campaign{BrandID: w.hotel.ID, Name: "Spa", Variants: []string{"Our spa is open"}})
	if err != nil {
		t.Fatal(err)
	}
	w.campaign = cp.ID
	w.exec(t, `UPDATE campaigns SET state = 'completed', started_at = $2 WHERE id = $1`, cp.ID, utc("2026-11-01T13:59:00Z"))
	w.exec(t, `INSERT INTO campaign_recipients (campaign_id, contact_id, phone, state, message_id)
		SELECT $1, contact_id, last_phone, 'queued', $3 FROM conversations WHERE id = $2`, cp.ID, w.convC, campaignText)
	// Consent: an opt-in by the API on Nov 1, a STOP (both purposes: one
	// phone) at Nov 1 23:45 EST.
	w.exec(t, `INSERT INTO consent_events (brand_id, phone, purpose, status, source, created_at) VALUES
		($1, '+12125550103', 'marketing', 'opted_in', 'api', '2026-11-01T12:00:00Z'),
		($1, '+12125550102', 'marketing', 'opted_out', 'keyword', '2026-11-02T04:45:00Z'),
		($1, '+12125550102', 'conversational', 'opted_out', 'keyword', '2026-11-02T04:45:00Z')`, w.hotel.ID)
	// Another brand's texts are never counted.
	if _, err := w.st.ReceiveInbound(w.ctx, []store.InboundRow{{SID: fmt.Sprintf("SM%032d", 9), BrandID: w.air.ID, From: "+12125550101",
		To: "+15005550006", Body: "wifi wifi", ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7"}}); err != nil {
		t.Fatal(err)
	}
	w.exec(t, `UPDATE messages SET created_at = '2026-11-01T16:00:00Z' WHERE brand_id = $1`, w.air.ID)
	return w
}

func (w *analyticsWorld) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := w.st.Pool.Exec(w.ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}

func (w *analyticsWorld) msg(t *testing.T, conv int64, dir, origin, purpose, status, at string, segments, code int, body string) int64 {
	t.Helper()
	var id int64
	if err := w.st.Pool.QueryRow(w.ctx, `INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status,
			purpose, origin, segments, error_code, created_at, sent_at)
		SELECT c.id, c.brand_id, $2, $9, '+15005550007', c.last_phone, $5, $4, $3, $7, nullif($8, 0), $6,
		       CASE WHEN $2 = 'outbound' AND $5 IN ('sent', 'delivered', 'undelivered') THEN $6::timestamptz END
		  FROM conversations c WHERE c.id = $1 RETURNING id`, conv, dir, origin, purpose, status, utc(at), segments, code, body).Scan(&id); err != nil {
		t.Fatal(err)
	}
	w.exec(t, `UPDATE conversations SET last_message_at = greatest(last_message_at, $2) WHERE id = $1`, conv, utc(at))
	return id
}

const period = "brand=demohotel&from=2026-10-31&to=2026-11-02"

func TestAnalyticsVolumeByLocalDay(t *testing.T) {
	t.Parallel()
	w := analyticsSetup(t)
	var out struct {
		Data []struct {
			Bucket    string         `json:"bucket"`
			Inbound   int            `json:"inbound"`
			Outbound  int            `json:"outbound"`
			ByPurpose map[string]int `json:"by_purpose"`
			ByOrigin  map[string]int `json:"by_origin"`
		} `json:"data"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/volume?"+period, nil).decode(t, http.StatusOK, &out)
	var got []string
	for _, d := range out.Data {
		got = append(got, fmt.Sprintf("%s in %d out %d mkt %d agent %d auto %d campaign %d", d.Bucket, d.Inbound, d.Outbound,
			d.ByPurpose["marketing"], d.ByOrigin["agent"], d.ByOrigin["auto_reply"], d.ByOrigin["campaign"]))
	}
	want := []string{
		"2026-10-31 in 1 out 1 mkt 0 agent 1 auto 0 campaign 0",
		"2026-11-01 in 2 out 3 mkt 1 agent 1 auto 1 campaign 1",
		"2026-11-02 in 1 out 2 mkt 0 agent 2 auto 0 campaign 0",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("volume\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Hours of the fall-back day: 25 of them, the repeated 01:00 twice,
	// empty ones included.
	w.call(t, http.MethodGet, "/api/v1/analytics/volume?brand=demohotel&from=2026-11-01&to=2026-11-01&granularity=hour", nil).decode(t, http.StatusOK, &out)
	if len(out.Data) != 25 || out.Data[1].Bucket != "2026-11-01T01:00:00-04:00" || out.Data[2].Bucket != "2026-11-01T01:00:00-05:00" {
		t.Fatalf("%d hours: %+v", len(out.Data), out.Data[:3])
	}
	if d := out.Data[24]; d.Bucket != "2026-11-01T23:00:00-05:00" || d.Inbound != 2 || d.Outbound != 2 {
		t.Fatalf("23:00 EST: %+v", d)
	}
	if d := out.Data[10]; d.Bucket != "2026-11-01T09:00:00-05:00" || d.Outbound != 1 || d.ByOrigin["campaign"] != 1 {
		t.Fatalf("09:00 EST: %+v", d)
	}

	// The same rows as CSV, nested counts flattened.
	rec := w.csv(t, "/api/v1/analytics/volume?"+period)
	if len(rec) != 4 || rec[0][0] != "bucket" || !slices.Contains(rec[0], "by_purpose.marketing") || !slices.Contains(rec[0], "by_origin.agent") {
		t.Fatalf("csv %q", rec)
	}
	col := slices.Index(rec[0], "outbound")
	if rec[2][0] != "2026-11-01" || rec[2][col] != "3" || rec[2][slices.Index(rec[0], "by_purpose.marketing")] != "1" {
		t.Fatalf("csv row %q of %q", rec[2], rec[0])
	}
}

func (w *analyticsWorld) csv(t *testing.T, path string) [][]string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Accept", "text/csv")
	res := httptest.NewRecorder()
	w.e.ServeHTTP(res, req)
	if res.Code != http.StatusOK || !strings.HasPrefix(res.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("%s: %d %s %s", path, res.Code, res.Header().Get("Content-Type"), res.Body)
	}
	rec, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

type statsOut struct {
	Count int      `json:"count"`
	P50   *float64 `json:"p50"`
	P90   *float64 `json:"p90"`
	Mean  *float64 `json:"mean"`
}

func (s statsOut) String() string {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("n %d p50 %s p90 %s mean %s", s.Count, f(s.P50), f(s.P90), f(s.Mean))
}

func TestAnalyticsResponseTimes(t *testing.T) {
	t.Parallel()
	w := analyticsSetup(t)
	var out struct {
		Data []struct {
			Bucket        string         `json:"bucket"`
			Conversations int            `json:"conversations"`
			First         statsOut       `json:"first_response"`
			Resolution    statsOut       `json:"resolution"`
			Distribution  map[string]int `json:"distribution"`
		} `json:"data"`
		Total struct {
			First statsOut `json:"first_response"`
		} `json:"total"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/response-times?"+period, nil).decode(t, http.StatusOK, &out)
	var got []string
	for _, d := range out.Data {
		got = append(got, fmt.Sprintf("%s waits %d first %v resolved %v fast %d slow %d", d.Bucket, d.Conversations, d.First, d.Resolution,
			d.Distribution["0-5m"], d.Distribution["1-4h"]))
	}
	// The auto-reply 5 s after B's text is not a response; B's reopening
	// is a wait of its own.
	want := []string{
		"2026-10-31 waits 1 first n 1 p50 600 p90 600 mean 600 resolved n 0 p50 - p90 - mean - fast 0 slow 0",
		"2026-11-01 waits 2 first n 2 p50 3660 p90 6492 mean 3660 resolved n 1 p50 1800 p90 1800 mean 1800 fast 1 slow 1",
		"2026-11-02 waits 1 first n 1 p50 1200 p90 1200 mean 1200 resolved n 0 p50 - p90 - mean - fast 0 slow 0",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("response times\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tot := out.Total.First.String(); tot != "n 4 p50 900 p90 5400 mean 2280" {
		t.Fatalf("total %s", tot)
	}
	rec := w.csv(t, "/api/v1/analytics/response-times?"+period)
	if !slices.Contains(rec[0], "first_response.p90") || !slices.Contains(rec[0], "distribution.>4h") || len(rec) != 4 {
		t.Fatalf("csv %q", rec)
	}
}

// Response times against the brand's first-response target, per person
// and hour of the day, and in business hours: open every day 08:00–23:35,
// a 15-minute target on the wall clock.
func TestAnalyticsResponseTimesTargetsAndHours(t *testing.T) {
	t.Parallel()
	w := analyticsSetup(t)
	u1, err := w.st.UpsertUser(w.ctx, "ana@demohotel.example", "x", "agent")
	if err != nil {
		t.Fatal(err)
	}
	u2, err := w.st.UpsertUser(w.ctx, "ben@demohotel.example", "x", "agent")
	if err != nil {
		t.Fatal(err)
	}
	w.exec(t, `UPDATE messages SET origin_ref = $2 WHERE conversation_id = ANY($1) AND origin = 'agent'`, []int64{w.convA, w.convC}, fmt.Sprint(u1.ID))
	w.exec(t, `UPDATE messages SET origin_ref = $2 WHERE conversation_id = $1 AND origin = 'agent'`, w.convB, fmt.Sprint(u2.ID))
	day := [][]string{{"08:00", "23:35"}}
	w.call(t, http.MethodPut, "/api/v1/brands/demohotel/settings", map[string]any{"first_response_sla_seconds": 900,
		"business_hours": map[string]any{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}}).decode(t, http.StatusOK, nil)
	type out struct {
		Data []struct {
			Bucket      string `json:"bucket"`
			SLABreaches int    `json:"sla_breaches"`
		} `json:"data"`
		Hours string `json:"hours"`
		Total struct {
			First       statsOut `json:"first_response"`
			SLABreaches int      `json:"sla_breaches"`
		} `json:"total"`
		SLA struct {
			Target   int  `json:"target_seconds"`
			Business bool `json:"business_hours"`
			Met      int  `json:"met"`
			Breached int  `json:"breached"`
			Pending  int  `json:"pending"`
		} `json:"sla"`
		ByAgent []struct {
			UserID      int64    `json:"user_id"`
			Name        string   `json:"name"`
			First       statsOut `json:"first_response"`
			SLABreaches int      `json:"sla_breaches"`
		} `json:"by_agent"`
		ByHour []struct {
			Hour          int      `json:"hour"`
			Conversations int      `json:"conversations"`
			First         statsOut `json:"first_response"`
		} `json:"by_hour_of_day"`
	}
	// Wall clock: A 600 s, B 120 s then 1200 s, C 7200 s. Over 900 s: B's
	// second wait (Nov 2) and C (begun Nov 1 23:10 EST).
	var wall out
	w.call(t, http.MethodGet, "/api/v1/analytics/response-times?"+period, nil).decode(t, http.StatusOK, &wall)
	if wall.Hours != "wall" || wall.Total.First.String() != "n 4 p50 900 p90 5400 mean 2280" || wall.Total.SLABreaches != 2 {
		t.Fatalf("wall: %s %v breaches %d", wall.Hours, wall.Total.First, wall.Total.SLABreaches)
	}
	if s := wall.SLA; s.Target != 900 || s.Business || s.Met != 2 || s.Breached != 2 || s.Pending != 0 {
		t.Fatalf("sla %+v", s)
	}
	if len(wall.Data) != 3 || wall.Data[0].SLABreaches != 0 || wall.Data[1].SLABreaches != 1 || wall.Data[2].SLABreaches != 1 {
		t.Fatalf("breaches per day %+v", wall.Data)
	}
	if a := wall.ByAgent; len(a) != 2 || a[0].UserID != u1.ID || a[0].Name != "ana@demohotel.example" || a[0].First.String() != "n 2 p50 3900 p90 6540 mean 3900" ||
		a[0].SLABreaches != 1 || a[1].UserID != u2.ID || a[1].First.String() != "n 2 p50 660 p90 1092 mean 660" || a[1].SLABreaches != 1 {
		t.Fatalf("by agent %+v", a)
	}
	if h := wall.ByHour; len(h) != 24 || h[23].Hour != 23 || h[23].Conversations != 3 || h[10].Conversations != 1 || h[9].Conversations != 0 ||
		h[10].First.String() != "n 1 p50 1200 p90 1200 mean 1200" {
		t.Fatalf("by hour %+v", h)
	}
	// Business hours: A 23:30–23:35 EDT = 300 s, B 120 s and 1200 s, C
	// 23:10–23:35 EST = 1500 s. The target keeps its own (wall) clock.
	var biz out
	w.call(t, http.MethodGet, "/api/v1/analytics/response-times?hours=business&"+period, nil).decode(t, http.StatusOK, &biz)
	if biz.Hours != "business" || biz.Total.First.String() != "n 4 p50 750 p90 1410 mean 780" || biz.SLA.Breached != 2 {
		t.Fatalf("business: %s %v %+v", biz.Hours, biz.Total.First, biz.SLA)
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/response-times?hours=lunar&"+period, nil).expectError(t, http.StatusBadRequest, "invalid_field", "hours")
}

func TestAnalyticsDeliveryConsentCampaigns(t *testing.T) {
	t.Parallel()
	w := analyticsSetup(t)
	var del struct {
		Data []map[string]any `json:"data"`
		Errs []struct {
			Code, Count int
			Meaning     string
		} `json:"errors"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/delivery?"+period, nil).decode(t, http.StatusOK, &del)
	var got []string
	for _, d := range del.Data {
		got = append(got, fmt.Sprintf("%v sent %v delivered %v failed %v segments %v by purpose %v", d["bucket"], d["sent"], d["delivered"], d["failed"],
			d["segments"], d["segments_by_purpose"]))
	}
	// Segments of the texts the carrier accepted: the failed agent reply
	// of Nov 1 costs nothing, the campaign text is marketing's.
	want := []string{
		"2026-10-31 sent 1 delivered 1 failed 0 segments 2 by purpose map[conversational:2 marketing:0]",
		"2026-11-01 sent 2 delivered 1 failed 1 segments 2 by purpose map[conversational:1 marketing:1]",
		"2026-11-02 sent 2 delivered 2 failed 0 segments 2 by purpose map[conversational:2 marketing:0]",
	}
	if !slices.Equal(got, want) || len(del.Errs) != 1 || del.Errs[0].Code != 30007 || del.Errs[0].Count != 1 ||
		!strings.Contains(del.Errs[0].Meaning, "spam") {
		t.Fatalf("delivery\n%s\nerrors %+v", strings.Join(got, "\n"), del.Errs)
	}

	var con struct {
		Data []struct {
			Bucket  string         `json:"bucket"`
			In      int            `json:"opt_ins"`
			Out     int            `json:"opt_outs"`
			InFrom  map[string]int `json:"opt_ins_by_source"`
			OutFrom map[string]int `json:"opt_outs_by_source"`
		} `json:"data"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/consent?"+period, nil).decode(t, http.StatusOK, &con)
	if len(con.Data) != 3 || con.Data[1].In != 1 || con.Data[1].InFrom["api"] != 1 || con.Data[1].Out != 1 || con.Data[1].OutFrom["keyword"] != 1 ||
		con.Data[0].In+con.Data[0].Out+con.Data[2].In+con.Data[2].Out != 0 {
		t.Fatalf("consent %+v", con.Data)
	}

	var cps struct {
		Data []map[string]any `json:"data"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/campaigns?"+period, nil).decode(t, http.StatusOK, &cps)
	if len(cps.Data) != 1 || cps.Data[0]["id"] != float64(w.campaign) || cps.Data[0]["sent"] != float64(1) || cps.Data[0]["delivered"] != float64(1) ||
		cps.Data[0]["replied"] != float64(1) || cps.Data[0]["opted_out"] != float64(0) || cps.Data[0]["reply_rate"] != float64(1) ||
		cps.Data[0]["opt_out_rate"] != float64(0) || cps.Data[0]["delivery_rate"] != float64(1) {
		t.Fatalf("campaigns %+v", cps.Data)
	}
	if vs, _ := cps.Data[0]["variants"].([]any); len(vs) != 1 || vs[0].(map[string]any)["body"] != "Our spa is open" ||
		vs[0].(map[string]any)["sent"] != float64(1) || vs[0].(map[string]any)["replied"] != float64(1) || vs[0].(map[string]any)["variant"] != float64(0) {
		t.Fatalf("variants %+v", cps.Data[0]["variants"])
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/campaigns?brand=demohotel&from=2026-11-02&to=2026-11-02", nil).decode(t, http.StatusOK, &cps)
	if len(cps.Data) != 0 {
		t.Fatalf("a campaign started on Nov 1 is listed for Nov 2: %+v", cps.Data)
	}
}

func TestAnalyticsTopicsAndConversationsCSV(t *testing.T) {
	t.Parallel()
	w := analyticsSetup(t)
	var out struct {
		Data []struct {
			List, Term      string
			Count, Previous int
			Examples        []struct {
				ID   int64
				Body string
			}
		} `json:"data"`
		Texts int `json:"texts"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/topics?"+period, nil).decode(t, http.StatusOK, &out)
	if out.Texts != 4 || len(out.Data) < 3 || out.Data[0].List != "top" || out.Data[0].Term != "wifi" || out.Data[0].Count != 3 ||
		len(out.Data[0].Examples) != 3 || out.Data[0].Examples[0].Body != "wifi password please" || out.Data[1].Term != "wifi password" {
		t.Fatalf("topics %d texts %+v", out.Texts, out.Data)
	}
	var rising []string
	for _, d := range out.Data {
		if d.List == "rising" {
			rising = append(rising, d.Term)
		}
	}
	if len(rising) == 0 || rising[0] != "wifi" {
		t.Fatalf("rising %q", rising)
	}

	rec := w.csv(t, "/api/v1/analytics/conversations.csv?"+period)
	if len(rec) != 4 || rec[0][0] != "id" || rec[0][8] != "first_response_seconds" {
		t.Fatalf("conversations csv %q", rec)
	}
	rows := map[string][]string{}
	for _, r := range rec[1:] {
		rows[r[0]] = r
	}
	a, b, c := rows[fmt.Sprint(w.convA)], rows[fmt.Sprint(w.convB)], rows[fmt.Sprint(w.convC)]
	if a[8] != "600" || a[10] != "1" || a[11] != "1" || b[8] != "120" || b[9] != "" || b[3] != "+12125550102" || b[10] != "2" || b[11] != "3" {
		t.Fatalf("rows A %q B %q", a, b)
	}
	if c[2] != `'=HYPERLINK("http://x")` || c[8] != "7200" || c[12] != "vip;wifi" || c[7] != "2026-11-02T04:10:00Z" {
		t.Fatalf("row C %q", c)
	}
	// A closed conversation shows its last close.
	w.exec(t, `UPDATE conversations SET status = 'closed' WHERE id = $1`, w.convB)
	rec = w.csv(t, "/api/v1/analytics/conversations.csv?"+period)
	if rec[2][0] != fmt.Sprint(w.convB) || rec[2][4] != "closed" || rec[2][9] != "2026-11-02T05:00:00Z" {
		t.Fatalf("closed B %q", rec[2])
	}
}

func TestAnalyticsBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, c := range []struct {
		query, code, field string
		status             int
	}{
		{"from=2026-11-01&to=2026-11-02", "missing_field", "brand", 400},
		{"brand=nosuch&from=2026-11-01&to=2026-11-02", "brand_not_found", "brand", 404},
		{"brand=demohotel&from=2026-11-01&to=2026-11-0", "invalid_field", "to", 400},
		{"brand=demohotel&from=2999-11-01", "invalid_field", "to", 400},
		{"brand=demohotel&from=11/01/2026&to=2026-11-02", "invalid_field", "from", 400},
		{"brand=demohotel&from=2026-11-03&to=2026-11-02", "invalid_field", "to", 400},
		{"brand=demohotel&from=2026-11-01&to=2026-11-02&granularity=week", "invalid_field", "granularity", 400},
		{"brand=demohotel&from=2020-01-01&to=2026-11-02&granularity=hour", "invalid_field", "to", 400},
	} {
		for _, route := range []string{"volume", "topics", "conversations.csv"} {
			b.call(t, http.MethodGet, "/api/v1/analytics/"+route+"?"+c.query, nil).expectError(t, c.status, c.code, c.field)
		}
	}
	// Without dates: the brand's week up to today, by day.
	var out struct {
		Data []struct {
			Bucket string `json:"bucket"`
		} `json:"data"`
	}
	b.call(t, http.MethodGet, "/api/v1/analytics/volume?brand=demohotel", nil).decode(t, http.StatusOK, &out)
	loc, _ := time.LoadLocation(b.hotel.Timezone)
	if today := time.Now().In(loc).Format(time.DateOnly); len(out.Data) != 7 || out.Data[6].Bucket != today {
		t.Fatalf("default period %+v, want the 7 days up to %s", out.Data, today)
	}
}

// A customer who wrote before the period and is still waiting when it
// begins is no new wait when they write again; one whose conversation was
// closed since is.
func TestAnalyticsResponseTimesOpenBeforePeriod(t *testing.T) {
	t.Parallel()
	w := &analyticsWorld{bundle: setup(t)}
	conv := func(n int, phone string) int64 {
		res, err := w.st.ReceiveInbound(w.ctx, []store.InboundRow{{SID: fmt.Sprintf("SM%032d", n), BrandID: w.hotel.ID, From: phone,
			To: "+15005550007", Body: "hello", ReceivedAt: time.Now(), Segments: 1, Encoding: "GSM-7"}})
		if err != nil {
			t.Fatal(err)
		}
		w.exec(t, `UPDATE messages SET created_at = '2026-10-20T12:00:00Z' WHERE id = $1`, res[0].MessageID)
		return res[0].ConversationID
	}
	waiting, reopened := conv(1, "+12125550104"), conv(2, "+12125550105")
	w.exec(t, `INSERT INTO conversation_activity (conversation_id, kind, created_at) VALUES ($1, 'closed', '2026-10-21T12:00:00Z')`, reopened)
	w.msg(t, waiting, "inbound", "customer", "conversational", "received", "2026-10-31T14:00:00Z", 1, 0, "anyone there?")
	w.msg(t, waiting, "outbound", "agent", "conversational", "delivered", "2026-10-31T14:10:00Z", 1, 0, "Sorry for the wait")
	w.msg(t, reopened, "inbound", "customer", "conversational", "received", "2026-10-31T15:00:00Z", 1, 0, "back again")
	w.msg(t, reopened, "outbound", "agent", "conversational", "delivered", "2026-10-31T15:05:00Z", 1, 0, "Welcome back")
	var out struct {
		Data []struct {
			Conversations int      `json:"conversations"`
			First         statsOut `json:"first_response"`
		} `json:"data"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/response-times?brand=demohotel&from=2026-10-31&to=2026-10-31", nil).decode(t, http.StatusOK, &out)
	if len(out.Data) != 1 || out.Data[0].Conversations != 1 || out.Data[0].First.String() != "n 1 p50 300 p90 300 mean 300" {
		t.Fatalf("%+v", out.Data)
	}
}

// The relationship figures: proactive texts and their replies, questions
// and their answers, opt-outs against the texts sent, and the customer
// base as it stands.
func TestAnalyticsRelationship(t *testing.T) {
	t.Parallel()
	w := analyticsSetup(t)
	// A trigger's text to A on Nov 1 (07:00 EST), answered an hour later;
	// another to B on Nov 2, never answered.
	toA := w.msg(t, w.convA, "outbound", "trigger", "conversational", "delivered", "2026-11-01T12:00:00Z", 1, 0, "How was your stay?")
	w.msg(t, w.convA, "inbound", "customer", "conversational", "received", "2026-11-01T13:00:00Z", 1, 0, "lovely")
	toB := w.msg(t, w.convB, "outbound", "trigger", "conversational", "delivered", "2026-11-02T16:00:00Z", 1, 0, "How was your stay?")
	for _, m := range []struct {
		id int64
		at string
	}{{toA, "2026-11-01T12:00:00Z"}, {toB, "2026-11-02T16:00:00Z"}} {
		w.exec(t, `INSERT INTO trigger_runs (trigger_id, brand_id, contact_id, due_at, expires_at, state, message_id, done_at)
			SELECT 1, m.brand_id, c.contact_id, $2, $2::timestamptz + interval '1 day', 'sent', m.id, $2 FROM messages m
			  JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1`, m.id, utc(m.at))
	}
	// Two questions asked of C on Nov 2, one answered.
	var question int64
	if err := w.st.Pool.QueryRow(w.ctx, `INSERT INTO questions (brand_id, kind, scale) VALUES ($1, 'rating', 5) RETURNING id`, w.hotel.ID).Scan(&question); err != nil {
		t.Fatal(err)
	}
	ask := w.msg(t, w.convC, "outbound", "trigger", "conversational", "delivered", "2026-11-02T17:00:00Z", 1, 0, "Rate us 1-5")
	answer := w.msg(t, w.convC, "inbound", "customer", "conversational", "received", "2026-11-02T17:05:00Z", 1, 0, "5")
	for _, reply := range []any{answer, nil} {
		w.exec(t, `INSERT INTO question_asks (question_id, brand_id, contact_id, conversation_id, message_id, asked_at, expires_at, state, reply_message_id)
			SELECT $1, c.brand_id, c.contact_id, c.id, $2, '2026-11-02T17:00:00Z', '2026-11-04T17:00:00Z', CASE WHEN $3::bigint IS NULL THEN 'open' ELSE 'answered' END, $3
			  FROM conversations c WHERE c.id = $4`, question, ask, reply, w.convC)
	}
	// Three scored customers: 10, 2 and 1 texts in 90 days.
	w.exec(t, `INSERT INTO engagement_scores (brand_id, contact_id, texts_in, replies, brand_texts, response_rate, followers, score)
		SELECT $1, contact_id, v.texts, 0, 0, 0, 0, v.score FROM conversations c
		  JOIN (VALUES (1, 10, 90), (2, 2, 30), (3, 1, 20)) v(n, texts, score) ON c.id = ($2::bigint[])[v.n]`, w.hotel.ID, []int64{w.convA, w.convB, w.convC})
	var before map[string]any
	w.call(t, http.MethodGet, "/api/v1/analytics/relationship?"+period, nil).decode(t, http.StatusOK, &struct {
		Customers *map[string]any `json:"customers"`
	}{&before})
	if before["customers_90d"] != float64(0) || before["as_of"] != nil {
		t.Fatalf("before the first summary the base is empty: %v", before)
	}
	if err := w.st.SummarizeEngagement(w.ctx); err != nil { // as every scoring pass does
		t.Fatal(err)
	}
	var out struct {
		Data []struct {
			Bucket           string   `json:"bucket"`
			ProactiveSent    int      `json:"proactive_sent"`
			ProactiveReplied int      `json:"proactive_replied"`
			ProactiveRate    *float64 `json:"proactive_reply_rate"`
			Asked            int      `json:"questions_asked"`
			Answered         int      `json:"questions_answered"`
			AnswerRate       *float64 `json:"question_answer_rate"`
			Outbound         int      `json:"outbound"`
			OptOuts          int      `json:"opt_outs"`
			OptOutRate       *float64 `json:"opt_out_rate"`
		} `json:"data"`
		Base map[string]any `json:"customers"`
	}
	w.call(t, http.MethodGet, "/api/v1/analytics/relationship?"+period, nil).decode(t, http.StatusOK, &out)
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	var got []string
	for _, d := range out.Data {
		got = append(got, fmt.Sprintf("%s proactive %d/%d %s questions %d/%d %s opt-outs %d of %d out %s", d.Bucket, d.ProactiveReplied, d.ProactiveSent,
			f(d.ProactiveRate), d.Answered, d.Asked, f(d.AnswerRate), d.OptOuts, d.Outbound, f(d.OptOutRate)))
	}
	want := []string{
		"2026-10-31 proactive 0/0 - questions 0/0 - opt-outs 0 of 1 out 0",
		"2026-11-01 proactive 1/1 1 questions 0/0 - opt-outs 1 of 4 out 0.25",
		"2026-11-02 proactive 0/1 0 questions 1/2 0.5 opt-outs 0 of 4 out 0",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("relationship\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	b := out.Base
	if b["open_conversations"] != float64(3) || b["customers_90d"] != float64(3) || b["repeat_customers_90d"] != float64(2) ||
		b["power_users"] != float64(1) || b["texts_90d"] != float64(13) || b["power_users_share_of_texts"] != 0.7692 || b["repeat_share"] != 0.6667 ||
		b["as_of"] == nil {
		t.Fatalf("customer base %v", b)
	}
	rec := w.csv(t, "/api/v1/analytics/relationship?"+period)
	if len(rec) != 4 || !slices.Contains(rec[0], "proactive_reply_rate") {
		t.Fatalf("csv %q", rec)
	}
}
