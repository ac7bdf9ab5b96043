package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio"
)

// The soak's inbound mix, per 100 webhooks: 94 distinct texts, 3 repeated
// deliveries of an earlier text (Twilio's retries), 1 with a bad signature,
// 2 compliance keywords (STOP, START, HELP in turn per keyword phone).
const (
	mixBad     = 1
	mixRepeat  = 3
	mixKeyword = 2
)

// Inbound phone pools, apart from the campaign's recipients: customers
// who chat, and phones that only send keywords (so each one's consent
// history is exactly its STOP / START sequence).
func chatPhone(i int) string    { return fmt.Sprintf("+1212%07d", 7000000+i) }
func keywordPhone(i int) string { return fmt.Sprintf("+1212%07d", 8000000+i) }

const (
	chatPhones    = 3000
	keywordPhones = 400
)

var keywordCycle = []string{"STOP", "START", "HELP"}

// keywordSent is one keyword a phone texted: when it was posted and when it
// was first answered 200 (stored, or spooled to be stored).
type keywordSent struct {
	word             string
	postedAt, okAt   time.Time
	campaignStopper  bool // a campaign recipient stopping while it runs
	answered         bool
	phone            string
	sid              string
	firstAttemptCode int
}

// inbound is the load generator: open loop (requests start on schedule,
// whatever the answers do, and latency is measured from the scheduled
// start), Twilio-signed, through the balancer.
type inbound struct {
	url    string
	client *http.Client
	seq    atomic.Int64
	kwSeq  atomic.Int64
	prefix string
	// inflight bounds the requests open at once (each holds three file
	// descriptors in this process: client, balancer, balancer's upstream);
	// past it, requests wait their turn and their latency shows it.
	inflight chan struct{}
	backlog  atomic.Int64 // requests due that never started: the servers were that far behind when the run ended

	mu       sync.Mutex
	valid    map[string]bool // every validly signed MessageSid posted
	answered map[string]bool // … and answered 200 at least once
	bad      map[string]bool // SIDs only ever posted with a bad signature
	recent   []url.Values    // the last valid forms, for repeats
	keywords []*keywordSent
	win      window // the current measurement window
	total    window
}

// window is what a stretch of the run measured.
type window struct {
	sent, ok, non200, badOK, transport, retried int
	lat                                         []time.Duration
	started                                     time.Time
}

func (w window) p(q float64) time.Duration {
	if len(w.lat) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), w.lat...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[min(len(l)-1, int(float64(len(l))*q))]
}

// errors counts answers that were not what Twilio should get: a valid
// webhook not answered 200 (it is posted again, as Twilio's redelivery
// would), a bad signature not refused, a transport failure.
func (w window) errors() int { return w.non200 + w.badOK + w.transport }

func newInbound(lbURL, prefix string) *inbound {
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second}
	return &inbound{url: lbURL + smsPath, prefix: prefix, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, inflight: make(chan struct{}, 2000),
		valid: map[string]bool{}, answered: map[string]bool{}, bad: map[string]bool{}, win: window{started: time.Now()}}
}

// takeWindow returns what was measured since the last call and starts a
// new window.
func (g *inbound) takeWindow() window {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.win
	g.win = window{started: time.Now()}
	return w
}

// runAt posts at rate requests per second until ctx ends, and returns when
// every request it started has finished.
func (g *inbound) runAt(ctx context.Context, rate float64) {
	var wg sync.WaitGroup
	start := time.Now()
	issued := 0
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case now := <-tick.C:
			due := int(rate * now.Sub(start).Seconds())
			for ; issued < due; issued++ {
				at := start.Add(time.Duration(float64(issued) / rate * float64(time.Second)))
				wg.Add(1)
				go func() {
					defer wg.Done()
					select {
					case g.inflight <- struct{}{}: // its latency counts from at, the wait included
					case <-ctx.Done():
						g.backlog.Add(1) // never started: the run ended first
						return
					}
					defer func() { <-g.inflight }()
					g.one(at)
				}()
			}
		}
	}
}

// one sends the next webhook of the mix, scheduled at `at`.
func (g *inbound) one(at time.Time) {
	n := g.seq.Add(1)
	kind := n % 100
	var form url.Values
	var kw *keywordSent
	switch {
	case kind < mixBad:
		sid := fmt.Sprintf("SM%sbad%026d", g.prefix, n)
		form = apptest.Inbound(sid, chatPhone(int(n)%chatPhones), "this signature is forged")
		g.mu.Lock()
		g.bad[sid] = true
		g.mu.Unlock()
		g.post(form, at, "forged"+apptest.AuthToken[6:], nil)
		return
	case kind < mixBad+mixRepeat:
		g.mu.Lock()
		if len(g.recent) > 0 {
			form = g.recent[int(n*7919)%len(g.recent)]
		}
		g.mu.Unlock()
	case kind < mixBad+mixRepeat+mixKeyword:
		k := g.kwSeq.Add(1) - 1
		phone := keywordPhone(int(k % keywordPhones))
		word := keywordCycle[int(k/keywordPhones)%len(keywordCycle)]
		sid := fmt.Sprintf("SM%skw%027d", g.prefix, n)
		form = apptest.Inbound(sid, phone, word)
		kw = &keywordSent{word: word, phone: phone, sid: sid}
	}
	if form == nil {
		sid := fmt.Sprintf("SM%s%030d", g.prefix, n)
		form = apptest.Inbound(sid, chatPhone(int(n*7919)%chatPhones), fmt.Sprintf("Hello, message %d about my booking", n))
	}
	g.send(form, at, kw)
}

// send posts a valid webhook, again until it is answered 200 (as Twilio
// redelivers a webhook that failed), and records it.
func (g *inbound) send(form url.Values, at time.Time, kw *keywordSent) {
	sid := form.Get("MessageSid")
	g.mu.Lock()
	g.valid[sid] = true
	if kw != nil {
		kw.postedAt = time.Now()
		g.keywords = append(g.keywords, kw)
	}
	g.mu.Unlock()
	g.post(form, at, apptest.AuthToken, kw)
	g.mu.Lock()
	if len(g.recent) < 1000 {
		g.recent = append(g.recent, form)
	} else {
		g.recent[int(g.seq.Load())%1000] = form
	}
	g.mu.Unlock()
}

// post sends form signed with token; a valid one is posted again until
// answered 200 (at most 60 tries, 250 ms apart).
func (g *inbound) post(form url.Values, at time.Time, token string, kw *keywordSent) {
	valid := token == apptest.AuthToken
	body := form.Encode()
	sig := twilio.Sign(token, g.url, form)
	for try := 0; try < 60; try++ {
		req, _ := http.NewRequest(http.MethodPost, g.url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		resp, err := g.client.Do(req)
		code := 0
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			code = resp.StatusCode
		}
		done := time.Now()
		g.mu.Lock()
		if try == 0 {
			g.win.sent++
			g.total.sent++
			g.win.lat = append(g.win.lat, done.Sub(at))
			g.total.lat = append(g.total.lat, done.Sub(at))
			if kw != nil {
				kw.firstAttemptCode = code
			}
		} else {
			g.win.retried++
			g.total.retried++
		}
		switch {
		case err != nil:
			g.win.transport++
			g.total.transport++
		case !valid && code != http.StatusForbidden:
			g.win.badOK++
			g.total.badOK++
		case valid && code != http.StatusOK:
			g.win.non200++
			g.total.non200++
		case code == http.StatusOK:
			g.win.ok++
			g.total.ok++
			g.answered[form.Get("MessageSid")] = true
			if kw != nil && !kw.answered {
				kw.answered, kw.okAt = true, done
			}
		}
		g.mu.Unlock()
		if !valid || code == http.StatusOK {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// stop sends STOP from a campaign recipient while the campaign runs.
func (g *inbound) stop(phone string) {
	n := g.seq.Add(1)
	sid := fmt.Sprintf("SM%sst%027d", g.prefix, n)
	kw := &keywordSent{word: "STOP", phone: phone, sid: sid, campaignStopper: true}
	g.send(apptest.Inbound(sid, phone, "STOP"), time.Now(), kw)
}

// chat sends one ordinary text from phone (the agents' replies answer it).
func (g *inbound) chat(phone, body string) string {
	n := g.seq.Add(1)
	sid := fmt.Sprintf("SM%sch%027d", g.prefix, n)
	g.send(apptest.Inbound(sid, phone, body), time.Now(), nil)
	return sid
}
