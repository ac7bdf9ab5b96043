package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio"
)

// The console benchmark: one Parley over a database loaded with 100,000
// conversations and ~1,000,000 messages, measured as an agent's browser sees
// it. Environment knobs (all optional):
//
//	PARLEY_BENCH_CONVERSATIONS  conversations (and contacts) to load, default 100000
//	PARLEY_BENCH_REQUESTS       timed requests per page variant, default 200
//	PARLEY_BENCH_WEBHOOKS       webhooks per SSE phase, default 300
//	PARLEY_BENCH_SQL            SQL run after the load and ANALYZE, before measuring
//	                            (e.g. a CREATE INDEX to compare against)
//	PARLEY_BENCH_HOLD           e.g. 10m: keep the database alive this long at the end
//	                            (its URL is logged) for EXPLAIN in psql

const (
	benchPassword    = "correct horse agent"
	benchOtherNumber = "+15005550009"
	benchOtherSlug   = "other-air"
	benchAgents      = 20
	benchSMSPath     = "/webhooks/twilio/sms"
)

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchStats is one measured series.
type benchStats struct {
	name string
	lat  []time.Duration
	note string
}

func (s benchStats) pct(q float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), s.lat...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	i := int(q * float64(len(l)))
	if i >= len(l) {
		i = len(l) - 1
	}
	return l[i]
}

func benchMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchBrowser is an agent's signed-in browser: a cookie jar and its own
// keep-alive connection pool.
type benchBrowser struct {
	base   string
	client *http.Client
}

var benchCSRF = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func benchLogin(tb testing.TB, base, email string) *benchBrowser {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	br := &benchBrowser{base: base, client: &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, page := br.get(tb, "/login")
	m := benchCSRF.FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("no CSRF token on the login page")
	}
	form := url.Values{"csrf_token": {m[1]}, "email": {email}, "password": {benchPassword}, "next": {"/"}}
	resp, err := br.client.PostForm(base+"/login", form)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("login as %s: %d", email, resp.StatusCode)
	}
	return br
}

// get fetches path and reads the whole body; it returns the time the Go
// client waited (request written to last byte read).
func (br *benchBrowser) get(tb testing.TB, path string) (time.Duration, string) {
	tb.Helper()
	t0 := time.Now()
	resp, err := br.client.Get(br.base + path)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d\n%.500s", path, resp.StatusCode, body)
	}
	return d, string(body)
}

// timeGets requests each path in turn (paths[i%len(paths)]): warm requests
// untimed, then n timed ones.
func timeGets(tb testing.TB, br *benchBrowser, name string, paths []string, warm, n int) benchStats {
	tb.Helper()
	for i := 0; i < warm; i++ {
		br.get(tb, paths[i%len(paths)])
	}
	s := benchStats{name: name, lat: make([]time.Duration, 0, n)}
	for i := 0; i < n; i++ {
		d, _ := br.get(tb, paths[(warm+i)%len(paths)])
		s.lat = append(s.lat, d)
	}
	return s
}

var benchRowID = regexp.MustCompile(`data-id="(\d+)"`)
var benchOlder = regexp.MustCompile(`<a href="([^"]+)" rel="next">Older`)

// benchLoad fills the environment's database with n conversations (one per
// contact, one phone each, 60/40 over two brands) and 1–19 messages each, by
// bulk SQL on one connection. Returns the message count.
func benchLoad(tb testing.TB, ctx context.Context, pool *pgxpool.Pool, n int, brand1, brand2, me int64, agents []int64) int {
	tb.Helper()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Release()
	exec := func(what, sql string, args ...any) {
		t0 := time.Now()
		tag, err := conn.Exec(ctx, sql, args...)
		if err != nil {
			tb.Fatalf("load %s: %v", what, err)
		}
		tb.Logf("load: %-22s %8d rows in %s", what, tag.RowsAffected(), time.Since(t0).Round(time.Millisecond))
	}
	// The GIN (search) indexes are dropped for the load and built again
	// after it, from their own definitions, as a bulk load would: built at
	// once they take minutes at 10M messages, kept up row by row far longer.
	var gin, ginNames []string
	rows, err := conn.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '% USING gin %'`)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			tb.Fatal(err)
		}
		gin, ginNames = append(gin, def), append(ginNames, name)
	}
	rows.Close()
	for _, name := range ginNames {
		exec("drop "+name, `DROP INDEX `+pgx.Identifier{name}.Sanitize())
	}
	// Triggers (the waiting clock, foreign keys) off for the bulk insert: the
	// rows below set waiting_since themselves and are consistent by construction.
	exec("replica role", `SET session_replication_role = replica`)
	exec("seed", `SELECT setseed(0.42)`)
	exec("work_mem", `SET work_mem = '256MB'`) // the message insert sorts 10 × n rows
	exec("maintenance_work_mem", `SET maintenance_work_mem = '512MB'`)
	exec("plan", `CREATE TEMP TABLE bench_plan ON COMMIT PRESERVE ROWS AS
		WITH r AS (
			SELECT g AS id, 1 + floor(random() * 19)::int AS n, random() AS rs, random() AS rw, random() AS ra,
			       random() AS rb, random() AS rl, random() AS rr, random() AS rt, random() AS rz, random() AS rq
			  FROM generate_series(1, $1::int) g),
		s AS (
			SELECT r.*, CASE WHEN rs < 0.40 THEN 'closed' WHEN rs < 0.45 THEN 'snoozed' ELSE 'open' END AS status,
			       CASE WHEN rb < 0.6 THEN $2::bigint ELSE $3::bigint END AS brand_id,
			       CASE WHEN rb < 0.6 THEN '`+apptest.BrandNumber+`' ELSE '`+benchOtherNumber+`' END AS brand_number,
			       '+1646' || (200 + id / 10000)::text || lpad((id % 10000)::text, 4, '0') AS phone
			  FROM r)
		SELECT s.*, (status <> 'closed' AND rw < 0.5) AS waiting,
		       date_trunc('second', now()) - CASE WHEN status <> 'closed' AND rw < 0.5 THEN rt * interval '3 days'
		                          ELSE interval '1 hour' + rt * interval '90 days' END AS last_at
		  FROM s`, n, brand1, brand2)
	exec("contacts", `INSERT INTO contacts (id, loyalty_id, name, attributes, created_at, updated_at)
		SELECT id, CASE WHEN rr < 0.5 THEN 'LOY-' || lpad(id::text, 7, '0') END,
		       (ARRAY['Dana','Alex','Sam','Priya','Chen','Maria','Omar','Lena','Jonas','Aisha','Tom','Yuki','Carlos','Fatima',
		              'Noah','Emma','Ravi','Sofia','Ivan','Grace'])[1 + id % 20] || ' ' ||
		       (ARRAY['Reyes','Okafor','Smith','Nguyen','Garcia','Kim','Müller','Rossi','Kowalski','Haddad','Silva','Tanaka',
		              'Johnson','Dubois','Larsen','Patel','Cohen','Novak','Ahmed','Brown','Schmidt','Lopez','Ivanova',
		              'Moreau','Walsh'])[1 + (id / 20) % 25],
		       jsonb_build_object('tier', CASE WHEN rz < 0.5 THEN 'bronze' WHEN rz < 0.8 THEN 'silver' WHEN rz < 0.95 THEN 'gold' ELSE 'platinum' END,
		                          'home_airport', (ARRAY['JFK','SFO','ORD','LAX','BOS','SEA'])[1 + id % 6]),
		       last_at - interval '200 days', last_at - interval '100 days'
		  FROM bench_plan`)
	exec("contact_phones", `INSERT INTO contact_phones (phone, contact_id, created_at) SELECT phone, id, last_at - interval '200 days' FROM bench_plan`)
	exec("conversations", `INSERT INTO conversations (id, brand_id, contact_id, status, assignee_id, last_phone, last_message_at,
			last_inbound_at, waiting_since, snoozed_until, labels, created_at, updated_at)
		SELECT id, brand_id, id, status,
		       CASE WHEN ra < 0.10 THEN $1::bigint WHEN ra < 0.50 THEN ($2::bigint[])[1 + floor((ra - 0.10) / 0.40 * array_length($2::bigint[], 1))::int] END,
		       phone, last_at,
		       CASE WHEN waiting THEN last_at WHEN n >= 2 THEN last_at - interval '4 minutes' END,
		       CASE WHEN waiting THEN last_at END,
		       CASE WHEN status = 'snoozed' THEN CASE WHEN rq < 0.5 THEN now() - interval '1 hour' ELSE now() + interval '1 day' END END,
		       CASE WHEN rl < 0.05 THEN '{billing}'::text[] WHEN rl < 0.08 THEN '{vip}' WHEN rl < 0.10 THEN '{refund,billing}'
		            WHEN rl < 0.15 THEN '{baggage}' ELSE '{}' END,
		       last_at - n * interval '4 minutes', last_at
		  FROM bench_plan`, me, agents)
	// Messages alternate direction, ending inbound when the customer waits and
	// with the agent's reply otherwise; ids ascend with time in each thread and
	// the last one's created_at is the conversation's last_message_at.
	exec("messages", `INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, twilio_sid,
			origin, origin_ref, queue, received_at, sent_at, enqueued_at, extra, created_at, updated_at)
		SELECT p.id, p.brand_id, d.dir,
		       CASE WHEN d.dir = 'inbound' THEN
		         (ARRAY['Hi, is my flight DA 100 on time?','I need to change my booking to tomorrow morning',
		                'My bag did not arrive in Boston, what do I do?','Can I get a refund for the cancelled leg?',
		                'Thanks, that works for me','Which gate does the flight to SFO leave from?',
		                'Can I add my loyalty number to booking ' || upper(substr(md5('bk' || p.id::text), 1, 6)) || '?','Is there wifi on board?'])[1 + (p.id * 7 + k) % 8]
		       ELSE
		         (ARRAY['Yes, DA 100 is on time and boards at 9:40 from gate B7.','Done: you are on the 8:05 tomorrow, same seat.',
		                'Sorry about that. Your bag is on the next flight and will be delivered tonight.',
		                'I have started the refund; it takes 5 to 7 days to reach your card.','You are welcome, safe travels!',
		                'Gate C12, boarding at 14:20.','Added: your miles will post within 48 hours.',
		                'Yes, wifi is free for members on all flights.'])[1 + (p.id * 7 + k) % 8]
		       END,
		       CASE WHEN d.dir = 'inbound' THEN p.phone ELSE p.brand_number END,
		       CASE WHEN d.dir = 'inbound' THEN p.brand_number ELSE p.phone END,
		       CASE WHEN d.dir = 'inbound' THEN 'received' ELSE 'delivered' END,
		       'SM' || lpad(to_hex(p.id), 24, '0') || lpad(to_hex(k), 8, '0'), -- ascending: appends to the unique index
		       CASE WHEN d.dir = 'inbound' THEN 'customer' ELSE 'agent' END,
		       CASE WHEN d.dir = 'inbound' THEN '' ELSE $1::text END,
		       CASE WHEN d.dir = 'outbound' THEN 'replies' END,
		       CASE WHEN d.dir = 'inbound' THEN d.at END,
		       CASE WHEN d.dir = 'outbound' THEN d.at END,
		       CASE WHEN d.dir = 'outbound' THEN d.at END,
		       CASE WHEN d.dir = 'inbound' THEN '{"FromCity":"NEW YORK","FromState":"NY","NumSegments":"1"}'::jsonb ELSE '{}' END,
		       d.at, d.at
		  FROM bench_plan p
		 CROSS JOIN LATERAL generate_series(1, p.n) k
		 CROSS JOIN LATERAL (SELECT CASE WHEN ((p.n - k) % 2 = 0) = p.waiting THEN 'inbound' ELSE 'outbound' END AS dir,
		                            p.last_at - (p.n - k) * interval '4 minutes' AS at) d
		 ORDER BY p.id, k`, strconv.FormatInt(me, 10))
	exec("conversation_reads", `INSERT INTO conversation_reads (user_id, conversation_id, read_at)
		SELECT $1::bigint, id, CASE WHEN rq < 0.15 THEN last_at ELSE last_at - interval '10 minutes' END FROM bench_plan WHERE rq < 0.25`, me)
	exec("conversation_notes", `INSERT INTO conversation_notes (conversation_id, author_id, body, created_at)
		SELECT id, $1::bigint, 'Customer prefers aisle seats; call before 6 pm.', last_at - interval '2 minutes' FROM bench_plan WHERE rr > 0.98`, me)
	exec("consent_events", `INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, created_at)
		SELECT brand_id, phone, pu, 'opted_out', 'keyword', 'STOP', last_at - interval '1 day'
		  FROM bench_plan, unnest(ARRAY['conversational','marketing']) pu WHERE rz > 0.99`)
	exec("sequences", `SELECT setval('contacts_id_seq', (SELECT max(id) FROM contacts)),
		setval('conversations_id_seq', (SELECT max(id) FROM conversations))`)
	exec("replica role off", `RESET session_replication_role`)
	exec("drop plan", `DROP TABLE bench_plan`)
	for _, def := range gin {
		exec("search index", def)
	}
	t0 := time.Now()
	for _, tbl := range []string{"contacts", "contact_phones", "conversations", "messages", "conversation_reads", "conversation_notes", "consent_events", "users"} {
		if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) "+tbl); err != nil {
			tb.Fatalf("vacuum analyze %s: %v", tbl, err)
		}
	}
	tb.Logf("load: VACUUM (ANALYZE) in %s", time.Since(t0).Round(time.Millisecond))
	var msgs int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&msgs); err != nil {
		tb.Fatal(err)
	}
	return msgs
}

// sseEvent is one `conversation` event and when the client had read it.
type sseEvent struct {
	conv int64
	at   time.Time
}

type sseClient struct {
	events chan sseEvent
	cancel context.CancelFunc
}

// openSSE connects br to GET /events and returns once the server has said
// ": connected" (the subscription exists).
func openSSE(tb testing.TB, br *benchBrowser) *sseClient {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, br.base+"/events", nil)
	resp, err := br.client.Do(req)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		tb.Fatalf("/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{events: make(chan sseEvent, 4096), cancel: cancel}
	connected := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var kind, data string
		once := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if kind == "conversation" {
					at := time.Now()
					var d struct {
						ID int64 `json:"id"`
					}
					if json.Unmarshal([]byte(data), &d) == nil {
						select {
						case c.events <- sseEvent{conv: d.ID, at: at}:
						default: // nobody is reading: drop
						}
					}
				}
				kind, data = "", ""
			case strings.HasPrefix(line, ": connected") && !once:
				once = true
				close(connected)
			case strings.HasPrefix(line, "event: "):
				kind = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			}
		}
	}()
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		cancel()
		tb.Fatal("/events: no ': connected' within 10 s")
	}
	return c
}

// waitFor returns when the client read the event for conv.
func (c *sseClient) waitFor(tb testing.TB, conv int64) time.Time {
	tb.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-c.events:
			if e.conv == conv {
				return e.at
			}
		case <-timeout:
			tb.Fatalf("no conversation event for %d within 5 s", conv)
			return time.Time{}
		}
	}
}

// drain discards events already received.
func (c *sseClient) drain() {
	for {
		select {
		case <-c.events:
		default:
			return
		}
	}
}

type benchTarget struct {
	conv  int64
	phone string
}

// webhookToSSE posts one signed inbound webhook per target, paced every
// `every`, and measures, per webhook, the time from its 200 response to the
// matching event at the slowest of clients (and from the request's start).
func webhookToSSE(tb testing.TB, env *apptest.Env, clients []*sseClient, targets []benchTarget, every time.Duration, tag string) (fromResp, fromSend benchStats, early int) {
	tb.Helper()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	target := env.PublicURL + benchSMSPath
	for _, c := range clients {
		c.drain()
	}
	start := time.Now()
	for i, tg := range targets {
		if wait := time.Until(start.Add(time.Duration(i) * every)); wait > 0 {
			time.Sleep(wait)
		}
		sid := fmt.Sprintf("SM%s%030d", tag, i)
		form := apptest.Inbound(sid, tg.phone, fmt.Sprintf("Any news on my bag? (%d)", i))
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilio.Sign(apptest.AuthToken, target, form))
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			tb.Fatalf("webhook: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t1 := time.Now()
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("webhook from %s: %d %s", tg.phone, resp.StatusCode, body)
		}
		var slowest time.Time
		for _, c := range clients {
			if at := c.waitFor(tb, tg.conv); at.After(slowest) {
				slowest = at
			}
		}
		d := slowest.Sub(t1)
		if d < 0 {
			early++ // the event was read before the 200 was: count it as 0
			d = 0
		}
		fromResp.lat = append(fromResp.lat, d)
		fromSend.lat = append(fromSend.lat, slowest.Sub(t0))
	}
	return fromResp, fromSend, early
}

// listenNotifyBaseline: the floor under webhook→SSE — a bare Postgres
// pg_notify from one pgx connection to a LISTENing one, same pacing. fromSend
// is timed from the start of the NOTIFY's round trip to the listener's
// wake-up (to compare with a webhook's request start → event), fromDone from
// the NOTIFY's return (usually the listener is already awake: 0).
func listenNotifyBaseline(tb testing.TB, ctx context.Context, dbURL string, pool *pgxpool.Pool, n int, every time.Duration) (fromDone, fromSend benchStats) {
	tb.Helper()
	lc, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer lc.Close(context.Background())
	if _, err := lc.Exec(ctx, `LISTEN bench_baseline`); err != nil {
		tb.Fatal(err)
	}
	got := make(chan sseEvent, n)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			note, err := lc.WaitForNotification(lctx)
			if err != nil {
				return
			}
			id, _ := strconv.ParseInt(note.Payload, 10, 64)
			got <- sseEvent{conv: id, at: time.Now()}
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * every)); wait > 0 {
			time.Sleep(wait)
		}
		t0 := time.Now()
		if _, err := pool.Exec(ctx, `SELECT pg_notify('bench_baseline', $1)`, strconv.Itoa(i)); err != nil {
			tb.Fatal(err)
		}
		t1 := time.Now()
		for {
			select {
			case e := <-got:
				if e.conv != int64(i) {
					continue
				}
				fromDone.lat = append(fromDone.lat, max(e.at.Sub(t1), 0))
				fromSend.lat = append(fromSend.lat, e.at.Sub(t0))
			case <-time.After(5 * time.Second):
				tb.Fatalf("baseline notification %d lost", i)
			}
			break
		}
	}
	return fromDone, fromSend
}

// BenchmarkConsole measures the agents' console over a realistic database:
// inbox and conversation page server time as an agent's browser sees it,
// webhook→SSE latency with 1 and 20 consoles connected, and baselines
// measured in the same run (a bare net/http handler doing one trivial query;
// a bare Postgres LISTEN/NOTIFY) to state the figures as ratios.
func BenchmarkConsole(b *testing.B) {
	ctx := context.Background()
	nConv := benchEnvInt("PARLEY_BENCH_CONVERSATIONS", 100000)
	nReq := benchEnvInt("PARLEY_BENCH_REQUESTS", 200)
	nHooks := benchEnvInt("PARLEY_BENCH_WEBHOOKS", 300)
	const warm = 10
	const pace = 20 * time.Millisecond

	env := apptest.New(b, apptest.Options{})
	other, err := app.BrandAdd(ctx, env.Store, app.BrandAddInput{Slug: benchOtherSlug, Name: "Other Air", Numbers: []string{benchOtherNumber}, MPS: 10})
	if err != nil {
		b.Fatal(err)
	}
	var agents []int64
	for i := 1; i <= benchAgents; i++ {
		u, _, err := app.UserAdd(ctx, env.Store, fmt.Sprintf("agent%02d@demo-air.example", i), "agent", benchPassword)
		if err != nil {
			b.Fatal(err)
		}
		agents = append(agents, u.ID)
	}
	me := agents[0]

	// 1. Load.
	t0 := time.Now()
	nMsgs := benchLoad(b, ctx, env.Store.Pool, nConv, env.Brand.ID, other.ID, me, agents[1:])
	loadTime := time.Since(t0)
	var waiting, mine, closed, snoozed, labelled int
	if err := env.Store.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE waiting_since IS NOT NULL), count(*) FILTER (WHERE assignee_id = $1),
		count(*) FILTER (WHERE status = 'closed'), count(*) FILTER (WHERE status = 'snoozed'), count(*) FILTER (WHERE labels <> '{}')
		FROM conversations`, me).Scan(&waiting, &mine, &closed, &snoozed, &labelled); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d conversations, %d messages, %d contacts/phones over 2 brands in %s (waiting %d, mine %d, closed %d, snoozed %d, labelled %d)",
		nConv, nMsgs, nConv, loadTime.Round(time.Millisecond), waiting, mine, closed, snoozed, labelled)
	if sql := os.Getenv("PARLEY_BENCH_SQL"); sql != "" {
		t := time.Now()
		if _, err := env.Store.Pool.Exec(ctx, sql); err != nil {
			b.Fatalf("PARLEY_BENCH_SQL: %v", err)
		}
		b.Logf("ran PARLEY_BENCH_SQL in %s: %s", time.Since(t).Round(time.Millisecond), sql)
	}
	<-env.App.Hub.Ready()

	// 5a. Baseline for the pages: a bare net/http handler running one trivial
	// query on its own pool over the same database, fetched by the same kind of client.
	bpool, err := pgxpool.New(ctx, env.DBURL)
	if err != nil {
		b.Fatal(err)
	}
	defer bpool.Close()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows, err := bpool.Query(r.Context(), `SELECT id FROM conversations ORDER BY id LIMIT 50`)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rows.Close()
		w.Header().Set("Content-Type", "text/plain")
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprintln(w, id)
		}
	}))
	defer bare.Close()
	bareStats := timeGets(b, &benchBrowser{base: bare.URL, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}},
		"bare net/http + 1 query", []string{"/"}, warm, nReq)
	rawPgx := benchStats{name: "raw pgx round trip"}
	for i := 0; i < warm+nReq; i++ {
		t := time.Now()
		rows, err := bpool.Query(ctx, `SELECT id FROM conversations ORDER BY id LIMIT 50`)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		if i >= warm {
			rawPgx.lat = append(rawPgx.lat, time.Since(t))
		}
	}

	// 2. Inbox variants.
	br := benchLogin(b, env.PublicURL, "agent01@demo-air.example")
	_, first := br.get(b, "/")
	if n := len(benchRowID.FindAllString(first, -1)); n != 50 {
		b.Fatalf("the default inbox lists %d rows, want 50", n)
	}
	m := benchOlder.FindStringSubmatch(first)
	if m == nil {
		b.Fatal("the default inbox has no Older link")
	}
	page2 := html.UnescapeString(m[1])
	var phoneDigits string
	if err := env.Store.Pool.QueryRow(ctx, `SELECT right(last_phone, 7) FROM conversations WHERE status = 'open' ORDER BY id LIMIT 1 OFFSET $1`, nConv/4).Scan(&phoneDigits); err != nil {
		b.Fatal(err)
	}
	// Search targets: a loyalty ID, and a booking code that one
	// conversation's customer wrote (rare) beside a word many wrote.
	var loyalty, booking string
	if err := env.Store.Pool.QueryRow(ctx, `SELECT ct.loyalty_id FROM contacts ct JOIN conversations c ON c.contact_id = ct.id
		WHERE ct.loyalty_id IS NOT NULL AND c.status = 'open' ORDER BY ct.id LIMIT 1 OFFSET $1`, nConv/8).Scan(&loyalty); err != nil {
		b.Fatal(err)
	}
	if err := env.Store.Pool.QueryRow(ctx, `SELECT upper(substr(md5('bk' || c.id::text), 1, 6)) FROM conversations c
		WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.body LIKE '%booking%')
		  AND c.status = 'open' ORDER BY c.id LIMIT 1 OFFSET $1`, nConv/8).Scan(&booking); err != nil {
		b.Fatal(err)
	}
	variants := []struct{ name, path string }{
		{"inbox_default", "/"},
		{"inbox_mine", "/?assignee=mine"},
		{"inbox_closed", "/?status=closed"},
		{"inbox_brand", "/?brand=" + benchOtherSlug},
		{"inbox_label", "/?label=billing"},
		{"inbox_q_name", "/?q=Okafor"},
		{"inbox_q_phone", "/?q=" + phoneDigits},
		{"inbox_q_loyalty", "/?q=" + loyalty},
		{"inbox_q_text_rare", "/?q=" + booking},
		{"inbox_q_text_common", "/?q=refund"},
		{"inbox_closed_q_name", "/?status=closed&q=Okafor"},
		{"inbox_page2", page2},
	}
	var inbox []benchStats
	for _, v := range variants {
		_, page := br.get(b, v.path)
		rows := len(benchRowID.FindAllString(page, -1))
		if rows == 0 {
			b.Fatalf("%s (%s) lists no rows", v.name, v.path)
		}
		s := timeGets(b, br, v.name, []string{v.path}, warm, nReq)
		s.note = fmt.Sprintf("GET %s (%d rows)", v.path, rows)
		b.Logf("%-14s %-50s p50 %6.1f ms  p95 %6.1f ms", v.name, s.note, benchMS(s.pct(0.5)), benchMS(s.pct(0.95)))
		inbox = append(inbox, s)
	}

	// 3. Conversation pages, random conversations.
	rng := rand.New(rand.NewSource(7))
	convPaths := make([]string, warm+nReq)
	for i := range convPaths {
		convPaths[i] = fmt.Sprintf("/conversations/%d", 1+rng.Intn(nConv))
	}
	convStats := timeGets(b, br, "conversation", convPaths, warm, nReq)
	convStats.note = "GET /conversations/{random id}"

	// 4. Webhook → SSE. Targets: distinct demo-air conversations (the webhook
	// texts demo-air's number), in random order.
	rows, err := env.Store.Pool.Query(ctx, `SELECT id, last_phone FROM conversations WHERE brand_id = $1 ORDER BY md5(id::text) LIMIT $2`,
		env.Brand.ID, 2*nHooks+2*warm)
	if err != nil {
		b.Fatal(err)
	}
	var targets []benchTarget
	for rows.Next() {
		var tg benchTarget
		if err := rows.Scan(&tg.conv, &tg.phone); err != nil {
			b.Fatal(err)
		}
		targets = append(targets, tg)
	}
	rows.Close()
	if len(targets) < 2*nHooks+2*warm {
		b.Fatalf("only %d demo-air conversations", len(targets))
	}
	one := openSSE(b, br)
	// Warm-up: a few webhooks not timed (other conversations).
	webhookToSSE(b, env, []*sseClient{one}, targets[2*nHooks:2*nHooks+warm], pace, "w1")
	sse1, sse1Send, early1 := webhookToSSE(b, env, []*sseClient{one}, targets[:nHooks], pace, "s1")
	one.cancel()
	var many []*sseClient
	for i := 0; i < benchAgents; i++ {
		many = append(many, openSSE(b, benchLogin(b, env.PublicURL, fmt.Sprintf("agent%02d@demo-air.example", i+1))))
	}
	webhookToSSE(b, env, many, targets[2*nHooks+warm:], pace, "w2")
	sse20, sse20Send, early20 := webhookToSSE(b, env, many, targets[nHooks:2*nHooks], pace, "s2")
	for _, c := range many {
		c.cancel()
	}
	listenNotifyBaseline(b, ctx, env.DBURL, bpool, warm, pace)
	notify, notifySend := listenNotifyBaseline(b, ctx, env.DBURL, bpool, nHooks, pace)

	// Report.
	b.Run("load", func(b *testing.B) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(loadTime.Seconds(), "load_s")
		b.ReportMetric(float64(nConv), "conversations")
		b.ReportMetric(float64(nMsgs), "messages")
	})
	b.Run("baseline_http", func(b *testing.B) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(benchMS(bareStats.pct(0.5)), "p50_ms")
		b.ReportMetric(benchMS(bareStats.pct(0.95)), "p95_ms")
	})
	b.Run("baseline_pgx", func(b *testing.B) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(benchMS(rawPgx.pct(0.5)), "p50_ms")
		b.ReportMetric(benchMS(rawPgx.pct(0.95)), "p95_ms")
	})
	for _, s := range append(append([]benchStats(nil), inbox...), convStats) {
		b.Run(s.name, func(b *testing.B) {
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(benchMS(s.pct(0.5)), "p50_ms")
			b.ReportMetric(benchMS(s.pct(0.95)), "p95_ms")
			b.ReportMetric(float64(s.pct(0.95))/float64(bareStats.pct(0.95)), "p95_ratio")
		})
	}
	// The SSE ratios compare like with like: webhook request start → event
	// at the client, against NOTIFY start → the listener's wake-up.
	sseRatio := func(send benchStats) float64 {
		return float64(send.pct(0.99)) / float64(max(notifySend.pct(0.99), time.Microsecond))
	}
	for _, x := range []struct {
		name          string
		fromResp, all benchStats
	}{{"sse_1_client", sse1, sse1Send}, {"sse_20_clients_slowest", sse20, sse20Send}, {"baseline_listen_notify", notify, notifySend}} {
		b.Run(x.name, func(b *testing.B) {
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(benchMS(x.fromResp.pct(0.5)), "p50_ms")
			b.ReportMetric(benchMS(x.fromResp.pct(0.99)), "p99_ms")
			b.ReportMetric(benchMS(x.all.pct(0.5)), "start_p50_ms")
			b.ReportMetric(benchMS(x.all.pct(0.99)), "start_p99_ms")
			b.ReportMetric(sseRatio(x.all), "start_p99_ratio")
		})
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "\nConsole benchmark: %d conversations, %d messages, %d contacts, 2 brands; loaded in %.1f s (bulk SQL + VACUUM ANALYZE)\n",
		nConv, nMsgs, nConv, loadTime.Seconds())
	fmt.Fprintf(&sb, "%-28s %9s %9s %9s  %s\n", "measure", "p50 ms", "p95 ms", "p95/base", "what")
	line := func(s benchStats, what string) {
		fmt.Fprintf(&sb, "%-28s %9.1f %9.1f %9.1f  %s\n", s.name, benchMS(s.pct(0.5)), benchMS(s.pct(0.95)),
			float64(s.pct(0.95))/float64(bareStats.pct(0.95)), what)
	}
	line(bareStats, "baseline: bare net/http handler, one `SELECT id FROM conversations ORDER BY id LIMIT 50`")
	line(rawPgx, "the same query through pgx, no HTTP")
	for _, s := range inbox {
		line(s, s.note)
	}
	line(convStats, convStats.note)
	fmt.Fprintf(&sb, "%-28s %9s %9s %9s %9s %9s  %s\n", "webhook→SSE", "p50 ms", "p99 ms", "start p50", "start p99", "p99/base", "(200 → event; start = request start → event)")
	sseLine := func(name string, s, send benchStats, what string) {
		fmt.Fprintf(&sb, "%-28s %9.2f %9.2f %9.2f %9.2f %9.1f  %s\n", name, benchMS(s.pct(0.5)), benchMS(s.pct(0.99)),
			benchMS(send.pct(0.5)), benchMS(send.pct(0.99)), sseRatio(send), what)
	}
	sseLine("sse_1_client", sse1, sse1Send, fmt.Sprintf("%d webhooks every %s, 1 console (%d events read before the 200 counted as 0)", nHooks, pace, early1))
	sseLine("sse_20_clients_slowest", sse20, sse20Send, fmt.Sprintf("same, 20 consoles, the slowest of them (%d before the 200)", early20))
	sseLine("baseline_listen_notify", notify, notifySend, "baseline: bare pg_notify → a LISTENing pgx connection (start = before the NOTIFY)")
	fmt.Print(sb.String()) // flush left, to copy into the README

	if d, err := time.ParseDuration(os.Getenv("PARLEY_BENCH_HOLD")); err == nil && d > 0 {
		b.Logf("holding the database %s for %s", env.DBURL, d)
		time.Sleep(d)
	}
}
