package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/internal/apptest"
)

// soakPlan is one soak's sizes and pace.
type soakPlan struct {
	long       bool
	recipients int           // campaign size (opted-out, stoppers and duplicates are shares of it)
	soak       time.Duration // the run at 80% of the knee, with the campaign and the faults in it
	step       time.Duration // each step of the knee search
	firstRate  float64
	rateStep   float64
	maxSteps   int
	numbers    int // sender numbers besides the brand's first
	mps        int
	replyMPS   int           // the brand's published number, which every reply goes from
	throttle   time.Duration // the 429 window
	events     int           // trigger events (one per person)
	agentEvery time.Duration // an agent's reply to a chatting customer this often
	drain      time.Duration // how long after the end everything must be final
	sample     time.Duration // memory and goroutine sampling
	faultSpan  float64       // the share of the soak the faults are spread over
}

// TestSoakShort is the soak in `make test`: the whole deployment (private
// Postgres and Redis, two web and two worker processes, the balancer, the
// fake carrier), one knee step, a small campaign with every fault that
// fits a minute, and every pass condition checked. `make soak` runs
// TestSoakLong with full sizes.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	t.Parallel()
	runSoak(t, soakPlan{recipients: 400, soak: 20 * time.Second, step: 2 * time.Second, firstRate: 250, rateStep: 250,
		maxSteps: 1, numbers: 3, mps: 20, replyMPS: 100, throttle: 2 * time.Second, events: 20, agentEvery: 250 * time.Millisecond,
		drain: 20 * time.Second, sample: 2 * time.Second, faultSpan: 0.45})
}

// TestSoakLong is `make soak` (scripts/soak.sh): SOAK_DURATION (default
// 10m) at 80% of the knee with a SOAK_RECIPIENTS (default 100000)
// campaign, SOAK_EVENTS trigger events, every fault. It runs only when
// PARLEY_SOAK=1.
func TestSoakLong(t *testing.T) {
	if os.Getenv("PARLEY_SOAK") != "1" {
		t.Skip("the long soak runs with PARLEY_SOAK=1 (make soak)")
	}
	runSoak(t, soakPlan{long: true, recipients: envInt(t, "SOAK_RECIPIENTS", 100_000), soak: envDuration(t, "SOAK_DURATION", 10*time.Minute),
		step: envDuration(t, "SOAK_STEP", 10*time.Second), firstRate: 250, rateStep: float64(envInt(t, "SOAK_RATE_STEP", 250)),
		maxSteps: 40, numbers: envInt(t, "SOAK_NUMBERS", 19), mps: envInt(t, "SOAK_MPS", 50),
		replyMPS: envInt(t, "SOAK_REPLY_MPS", 100), throttle: 30 * time.Second,
		events: envInt(t, "SOAK_EVENTS", 10_000), agentEvery: 100 * time.Millisecond, drain: 2 * time.Minute, sample: 5 * time.Second,
		faultSpan: 0.6})
}

// soak is one run's state.
type soak struct {
	t      *testing.T
	plan   soakPlan
	c      *cluster
	in     *inbound
	rec    *recipients
	faults *faultLog
	start  time.Time
	db     *pgxpool.Pool // to the private Postgres, for the checks
	// selfFDs is the most file descriptors the test process (load
	// generator, balancer, fake carrier) held at a sample.
	selfFDs atomic.Int64
	rest    map[string]restSample // goroutines at rest, by process run
	rate    float64               // the soak's inbound rate
}

func runSoak(t *testing.T, plan soakPlan) {
	began := time.Now()
	c := startCluster(t, plan.numbers, plan.mps)
	s := &soak{t: t, plan: plan, c: c, in: newInbound(c.lb.url, "s"), faults: &faultLog{}, rest: map[string]restSample{}}
	s.exec(`UPDATE brands SET quiet_start = 0, quiet_end = 1440`) // the run's texts go whatever the hour
	// Every reply goes from the number customers text. 2% of the knee
	// search's top rate are keywords, each answered: at 3,000 req/s that is
	// 60 replies a second, three times a 20-mps number's rate, and a backlog
	// no sender can work off. So the published number is a short code.
	s.exec(`UPDATE brand_numbers SET mps = $1 WHERE number = $2`, plan.replyMPS, apptest.BrandNumber)
	s.rec = newRecipients(plan.recipients)
	s.importRecipients()
	t.Logf("soak: deployment up in %s (load %s)", time.Since(began).Round(time.Millisecond), loadavg())

	trig := s.createTrigger() // before the load: the rule exists when its events come
	s.atRest(s.rest, false)
	knee, steps := s.findKnee()
	rate := max(50, 0.8*knee)
	if v := os.Getenv("SOAK_RATE"); v != "" && plan.long {
		rate = float64(envInt(t, "SOAK_RATE", 0)) // a fixed soak rate instead of 80% of the knee
	}
	s.rate = rate
	t.Logf("soak: knee %.0f req/s; soaking at %.0f req/s for %s", knee, rate, plan.soak)

	camp := s.createCampaign()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s.start = time.Now()
	s.in.takeWindow()
	wg.Add(1)
	go func() { defer wg.Done(); s.in.runAt(ctx, rate) }()
	samples := s.sampleLoop(ctx, &wg)
	agents := s.agentLoop(ctx, &wg)
	s.schedule(camp)
	wg.Add(1)
	go func() { defer wg.Done(); s.stoppers(ctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); s.sendEvents(trig) }()
	s.runFaults(ctx)
	<-time.After(time.Until(s.start.Add(plan.soak)))
	s.dumpGoroutines("end-of-load")
	cancel()
	wg.Wait()
	end := time.Now()
	soakWin := s.in.takeWindow()
	t.Logf("soak: load over at %s: %d webhooks (%.0f/s), p50 %.1f ms, p99 %.1f ms, %d non-200 answers retried, %d transport errors, %d due but never started; carrier %s; load %s",
		end.Sub(s.start).Round(time.Second), soakWin.sent, float64(soakWin.sent)/end.Sub(s.start).Seconds(), ms(soakWin.p(0.5)), ms(soakWin.p(0.99)),
		soakWin.non200, soakWin.transport, s.in.backlog.Load(), c.fake, loadavg())
	final := s.drain(camp, end)
	s.report(knee, steps, soakWin, samples(), agents(), final, end)
}

func (s *soak) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.pool().Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatalf("soak: %s: %v", sql, err)
	}
}

// api calls the JSON API through the balancer with the soak's key.
func (s *soak) api(method, path string, body any, out any, header ...string) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.c.lb.url+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.in.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil || len(env.Data) == 0 {
			return resp.StatusCode, fmt.Errorf("%s %s: %s", method, path, raw)
		}
		return resp.StatusCode, json.Unmarshal(env.Data, out)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

// recipients is the campaign's audience as imported: who is opted in,
// who opted out before, who will text STOP while it runs, and which rows
// repeat a phone written differently.
type recipients struct {
	n int
}

func newRecipients(n int) *recipients { return &recipients{n: n} }

func recipientPhone(i int) string         { return fmt.Sprintf("+1212%07d", 6000000+i) }
func (r *recipients) optedOut(i int) bool { return i%20 == 0 }  // 5%
func (r *recipients) stopper(i int) bool  { return i%100 == 7 } // 1%, texting STOP during the campaign
func (r *recipients) duplicate(i int) bool {
	return i%200 == 1 // 0.5%: listed twice, the second time in national format
}
func (r *recipients) eventPerson(i int) bool { return i%100 == 3 }

// importRecipients imports the audience through `parley contacts import`.
func (s *soak) importRecipients() {
	s.t.Helper()
	var b strings.Builder
	b.WriteString("phone,name,consent_purpose,consent_status,consent_source\n")
	dups := 0
	for i := 0; i < s.rec.n; i++ {
		status := "opted_in"
		if s.rec.optedOut(i) {
			status = "opted_out"
		}
		p := recipientPhone(i)
		fmt.Fprintf(&b, "%s,Person%d Soak,marketing,%s,import\n", p, i, status)
		if s.rec.duplicate(i) {
			fmt.Fprintf(&b, "\"(%s) %s-%s\",Person%d Soak,marketing,%s,import\n", p[2:5], p[5:8], p[8:], i, status)
			dups++
		}
	}
	path := filepath.Join(s.c.dir, "recipients.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		s.t.Fatal(err)
	}
	began := time.Now()
	out := runCLI(s.t, s.c.bin, []string{"DATABASE_URL=" + s.c.dbURL}, "contacts", "import", path, "--brand", "demo-air")
	s.t.Logf("soak: imported %d recipients (%d listed twice) in %s: %s", s.rec.n, dups, time.Since(began).Round(time.Millisecond),
		strings.TrimSpace(lastLine(out)))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// findKnee steps the inbound rate up from firstRate until p99 passes
// 250 ms or an answer is wrong; the knee is the last rate that passed.
func (s *soak) findKnee() (float64, []kneeStep) {
	var steps []kneeStep
	knee := 0.0
	for k := 0; k < s.plan.maxSteps; k++ {
		rate := s.plan.firstRate + float64(k)*s.plan.rateStep
		s.in.takeWindow()
		ctx, cancel := context.WithTimeout(context.Background(), s.plan.step)
		s.in.runAt(ctx, rate)
		cancel()
		w := s.in.takeWindow()
		st := kneeStep{rate: rate, got: float64(w.sent) / s.plan.step.Seconds(), p50: w.p(0.5), p99: w.p(0.99), errors: w.errors(), load: loadavg()}
		steps = append(steps, st)
		s.t.Logf("soak: step %.0f req/s: %d sent, p50 %.1f ms, p99 %.1f ms, %d errors (load %s)", rate, w.sent, ms(st.p50), ms(st.p99), st.errors, st.load)
		if st.p99 > 250*time.Millisecond || st.errors > 0 {
			break
		}
		knee = rate
	}
	if knee == 0 {
		knee = s.plan.firstRate / 2 // even the first step failed: soak below it
	}
	return knee, steps
}

type kneeStep struct {
	rate, got float64
	p50, p99  time.Duration
	errors    int
	load      string
}

type campaignRef struct{ ID int64 }

func (s *soak) createCampaign() campaignRef {
	s.t.Helper()
	var c campaignRef
	if _, err := s.api("POST", "/api/v1/campaigns", map[string]any{"brand": "demo-air", "name": "Soak",
		"body": `Soak offer for {{default "you" .FirstName}}: 20% off this week. Reply STOP to opt out.`}, &c); err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *soak) schedule(c campaignRef) {
	s.t.Helper()
	if _, err := s.api("POST", fmt.Sprintf("/api/v1/campaigns/%d/schedule", c.ID), map[string]any{}, nil); err != nil {
		s.t.Fatal(err)
	}
}

func (s *soak) createTrigger() int64 {
	s.t.Helper()
	var tr struct {
		ID int64 `json:"id"`
	}
	if _, err := s.api("POST", "/api/v1/triggers", map[string]any{"brand": "demo-air", "event_type": "soak_visit", "delay": "0s",
		"template": "Soak trigger: thanks for visit {{.Event.visit}}", "purpose": "conversational", "enabled": true}, &tr); err != nil {
		s.t.Fatal(err)
	}
	return tr.ID
}

// sendEvents posts one event per event person, in batches, through the
// first half of the soak.
func (s *soak) sendEvents(int64) {
	var people []int
	for i := 0; i < s.rec.n && len(people) < s.plan.events; i++ {
		if s.rec.eventPerson(i) {
			people = append(people, i)
		}
	}
	const batch = 200
	gap := s.plan.soak / 2 / time.Duration(max(1, (len(people)+batch-1)/batch))
	for k := 0; k < len(people); k += batch {
		var evs []map[string]any
		for _, i := range people[k:min(len(people), k+batch)] {
			evs = append(evs, map[string]any{"type": "soak_visit", "phone": recipientPhone(i), "idempotency_key": fmt.Sprintf("visit-%d", i),
				"data": map[string]any{"visit": i}})
		}
		for try := 0; try < 30; try++ {
			code, err := s.api("POST", "/api/v1/events:batch", map[string]any{"brand": "demo-air", "events": evs}, nil)
			if err == nil && code == http.StatusAccepted {
				break
			}
			time.Sleep(time.Second) // a fault in progress: the brand's system posts again
		}
		time.Sleep(gap)
	}
}

// stoppers text STOP from the campaign's stoppers while it runs: once it
// has started sending, spread until it is about half done.
func (s *soak) stoppers(ctx context.Context) {
	var phones []string
	for i := 0; i < s.rec.n; i++ {
		if s.rec.stopper(i) && !s.rec.optedOut(i) {
			phones = append(phones, recipientPhone(i))
		}
	}
	for s.c.fake.campaignSent.Load() == 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	for k, p := range phones {
		for s.c.fake.campaignSent.Load() < int64(k*s.rec.n/2/max(1, len(phones))) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		go s.in.stop(p)
	}
}

// agentLoop has agents answer chatting customers through the API while
// everything else runs; it returns the replies' message ids.
func (s *soak) agentLoop(ctx context.Context, wg *sync.WaitGroup) func() []int64 {
	var mu sync.Mutex
	var ids []int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(s.plan.agentEvery)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			go func(n int) {
				phone := chatPhone(n % chatPhones)
				s.in.chat(phone, fmt.Sprintf("Can a person help me with booking %d?", n))
				var m struct {
					ID int64 `json:"id"`
				}
				// Posted again until answered, under one Idempotency-Key:
				// a reply whose answer was lost (a web process killed, or
				// Postgres restarted, mid-request) must not be sent twice.
				for try := 0; try < 30; try++ {
					code, err := s.api("POST", "/api/v1/messages", map[string]any{"brand": "demo-air", "to": phone,
						"body": fmt.Sprintf("Agent reply %d: on it.", n)}, &m, "Idempotency-Key", fmt.Sprintf("soak-agent-reply-%d", n))
					if err == nil && code < 300 {
						mu.Lock()
						ids = append(ids, m.ID)
						mu.Unlock()
						return
					}
					time.Sleep(time.Second)
				}
			}(n)
		}
	}()
	return func() []int64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]int64(nil), ids...)
	}
}

// sampleLoop samples every process's RSS and goroutines; it returns the
// samples by process name (only the current run of each process).
func (s *soak) sampleLoop(ctx context.Context, wg *sync.WaitGroup) func() map[string][]sample {
	var mu sync.Mutex
	out := map[string][]sample{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(s.plan.sample)
		defer tick.Stop()
		for {
			for _, p := range s.c.procs() {
				key, smp := p.sample()
				mu.Lock()
				out[key] = append(out[key], smp)
				mu.Unlock()
			}
			if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
				s.selfFDs.Store(max(s.selfFDs.Load(), int64(len(fds))))
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() map[string][]sample {
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}
