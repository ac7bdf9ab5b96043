package loadtest

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio"
)

const smsPath = "/webhooks/twilio/sms"

// Traffic shape. Every request carries a new MessageSid except one in
// repeatEvery/100 (3%), which repeats an earlier one from the same phone, as
// Twilio's retries do. One text in newEvery comes from a phone never seen
// before (a first text: a new contact and conversation); the rest come from
// knownPhones customers who are already contacts.
const (
	knownPhones = 6000
	repeatPct   = 3
	newEvery    = 10
)

// knownPhone is the i-th pre-existing customer's phone.
func knownPhone(i int) string { return fmt.Sprintf("+1212%07d", 5550000+i) }

// phoneOf is the sender of text number id: deterministic, so a repeated
// MessageSid comes from the phone that sent it first.
func phoneOf(id int64) (phone string, isNew bool) {
	if id%newEvery == 0 {
		return fmt.Sprintf("+1646%07d", 2000000+id/newEvery), true
	}
	return knownPhone(int(id*7919) % knownPhones), false
}

// target is one server under load, with the sequence of its texts kept across
// slices so SIDs and new phones never repeat between them.
type target struct {
	name, url, prefix string
	server            *child
	pool              *pgxpool.Pool // to its database, for the CPU meter
	seq               atomic.Int64
	sids              map[string]bool
	phones            map[string]bool
	newPhones         map[string]bool
	total             result // measured slices only
	slices            []result
}

func newTarget(name, url, prefix string) *target {
	return &target{name: name, url: url, prefix: prefix, sids: map[string]bool{}, phones: map[string]bool{}, newPhones: map[string]bool{}}
}

// result is one or more slices' figures.
type result struct {
	sent, ok, repeats int
	elapsed           time.Duration
	lat               []time.Duration
	perSec            float64
	p50, p99          time.Duration
	load              string // /proc/loadavg when the slice ended
	errs              []string
}

func (r result) add(o result) result {
	r.sent += o.sent
	r.ok += o.ok
	r.repeats += o.repeats
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	r.errs = append(r.errs, o.errs...)
	return r.finish()
}

func (r result) finish() result {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	if r.elapsed > 0 {
		r.perSec = float64(r.sent) / r.elapsed.Seconds()
	}
	if len(r.lat) > 0 {
		r.p50, r.p99 = r.lat[len(r.lat)/2], r.lat[len(r.lat)*99/100]
	}
	return r
}

func (r result) String() string {
	return fmt.Sprintf("%.0f req/s, p50 %.1f ms, p99 %.1f ms (%d requests, %d repeats)", r.perSec,
		ms(r.p50), ms(r.p99), r.sent, r.repeats)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// run posts Twilio-signed inbound webhooks to t from senders goroutines for d.
// measured=false is a warm-up: its texts are stored and checked like the
// others but its timings are not kept.
func (t *target) run(tb testing.TB, senders int, d time.Duration, measured bool) result {
	tr := &http.Transport{MaxIdleConns: senders * 2, MaxIdleConnsPerHost: senders * 2}
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	defer tr.CloseIdleConnections()
	url := t.url + smsPath
	var (
		mu      sync.Mutex
		res     result
		wg      sync.WaitGroup
		stopped atomic.Bool
	)
	start := time.Now()
	deadline := start.Add(d)
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 8192)
			sids := make([]string, 0, 8192)
			var phones, fresh []string
			ok, repeats := 0, 0
			var errs []string
			for !stopped.Load() && time.Now().Before(deadline) {
				n := t.seq.Add(1)
				id := n
				if n > 100 && n%100 < repeatPct {
					id = n - 37 // a retry of an earlier delivery
					repeats++
				}
				sid := fmt.Sprintf("SM%s%030d", t.prefix, id)
				from, isNew := phoneOf(id)
				form := apptest.Inbound(sid, from, fmt.Sprintf("Hello, message %d about my booking", id))
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", twilio.Sign(apptest.AuthToken, url, form))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs = append(errs, err.Error())
					stopped.Store(true)
					break
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				sids = append(sids, sid)
				phones = append(phones, from)
				if isNew {
					fresh = append(fresh, from)
				}
				if resp.StatusCode == http.StatusOK {
					ok++
				} else if len(errs) < 5 {
					errs = append(errs, fmt.Sprintf("%d %s", resp.StatusCode, body))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.lat = append(res.lat, lat...)
			res.ok += ok
			res.repeats += repeats
			res.errs = append(res.errs, errs...)
			for _, s := range sids {
				t.sids[s] = true
			}
			for _, p := range phones {
				t.phones[p] = true
			}
			for _, p := range fresh {
				t.newPhones[p] = true
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.sent = len(res.lat)
	res.load = loadavg()
	res = res.finish()
	if len(res.errs) > 0 {
		tb.Fatalf("%s: %d failed requests, first: %s", t.name, len(res.errs), res.errs[0])
	}
	if measured {
		t.slices = append(t.slices, res)
		t.total = t.total.add(res)
	}
	return res
}
