package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/carrier/twilio"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
)

// fakeCarrier is the fake Twilio REST API the soak's workers send through
// (twiliotest.Fake, reached by the real twilio-go client through
// TWILIO_API_URL) with the soak's faults on top, and the carrier's half of
// delivery: every accepted message gets its status callbacks (sent, then
// delivered) posted back, signed, to the web processes through the balancer.
type fakeCarrier struct {
	*twiliotest.Fake
	public string // the balancer's URL, which status callback URLs name

	throttle  atomic.Bool  // every create answered 429 / 20429 (not stored)
	hangNext  atomic.Int64 // creates held 20 s, then refused: the client gave up long before
	stallNext atomic.Int64 // creates accepted and stored, then held 20 s before the answer

	campaignSent atomic.Int64 // accepted creates of the campaign's text

	callbacks      sync.WaitGroup
	callbackOK     atomic.Int64
	callbackFailed atomic.Int64 // a callback given up after its retries
	client         *http.Client
	queue          chan twiliotest.Message // accepted messages whose callbacks are still to post
	stop           chan struct{}
}

// callbackPosters is how many status callbacks are in flight at most.
const callbackPosters = 64

// The bodies of the soak's texts begin with these, so the carrier's log
// tells them apart.
const (
	campaignPrefix = "Soak offer"
	triggerPrefix  = "Soak trigger"
	agentPrefix    = "Agent reply"
)

// hangFor outlasts the client's 15 s timeout (internal/app builds the
// Twilio client with it), so a hung request always ends on the client side.
const hangFor = 20 * time.Second

func newFakeCarrier(tb testing.TB, public string) *fakeCarrier {
	tb.Helper()
	f := &fakeCarrier{Fake: twiliotest.New(tb, apptest.AccountSID, apptest.AuthToken), public: public,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, stop: make(chan struct{})}
	f.SetLatency(5 * time.Millisecond) // Twilio's own processing, roughly
	f.SetRule(func(twiliotest.CreateRequest) *twiliotest.ErrorResponse {
		if f.hangNext.Load() > 0 && f.hangNext.Add(-1) >= 0 {
			f.wait(hangFor)
			return &twiliotest.ErrorResponse{Status: http.StatusServiceUnavailable, Code: 20503, Message: "Service unavailable"}
		}
		if f.throttle.Load() {
			return &twiliotest.ErrorResponse{Status: http.StatusTooManyRequests, Code: twilio.CodeTooManyRequests, Message: "Too Many Requests"}
		}
		return nil
	})
	// Callbacks go out through a fixed pool of posters, as a carrier's
	// webhook senders do: a slow web tier makes them late, not unbounded.
	f.queue = make(chan twiliotest.Message, 1<<20)
	for i := 0; i < callbackPosters; i++ {
		go func() {
			for m := range f.queue {
				f.deliver(m)
			}
		}()
	}
	f.OnCreate(func(m twiliotest.Message) {
		if strings.HasPrefix(m.Body, campaignPrefix) {
			f.campaignSent.Add(1)
		}
		f.callbacks.Add(1)
		select {
		case f.queue <- m:
		default:
			f.callbacks.Done()
			f.callbackFailed.Add(2) // a million callbacks behind: dropped, and counted
		}
		if f.stallNext.Load() > 0 && f.stallNext.Add(-1) >= 0 {
			f.wait(hangFor)
		}
	})
	tb.Cleanup(func() {
		close(f.stop)
		f.callbacks.Wait()
		close(f.queue)
	})
	return f
}

func (f *fakeCarrier) wait(d time.Duration) {
	select {
	case <-time.After(d):
	case <-f.stop:
	}
}

// deliver posts the message's status callbacks as Twilio does: "sent"
// after the create, then "delivered". A callback the balancer
// cannot place (every web process down) is tried again for a while.
func (f *fakeCarrier) deliver(m twiliotest.Message) {
	defer f.callbacks.Done()
	if m.StatusCallback == "" {
		return
	}
	if d := time.Until(m.At.Add(50 * time.Millisecond)); d > 0 {
		f.wait(d)
	}
	for _, st := range []string{"sent", "delivered"} {
		form := url.Values{"MessageSid": {m.SID}, "SmsSid": {m.SID}, "MessageStatus": {st}, "SmsStatus": {st},
			"AccountSid": {apptest.AccountSID}, "From": {m.From}, "To": {m.To}, "ApiVersion": {"2010-04-01"}}
		ok := false
		for try := 0; try < 20 && !ok; try++ {
			select {
			case <-f.stop:
				return
			default:
			}
			ok = f.post(m.StatusCallback, form)
			if !ok {
				f.wait(500 * time.Millisecond)
			}
		}
		if ok {
			f.callbackOK.Add(1)
		} else {
			f.callbackFailed.Add(1)
		}
	}
}

func (f *fakeCarrier) post(callback string, form url.Values) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, callback, strings.NewReader(form.Encode()))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(apptest.AuthToken, callback, form))
	resp, err := f.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// maxPerSecond is, per sender number, the most creates the carrier
// accepted in any one-second window (sliding, from each create's arrival).
func maxPerSecond(sent []twiliotest.Message) map[string]int {
	by := map[string][]time.Time{}
	for _, m := range sent {
		by[m.From] = append(by[m.From], m.At)
	}
	out := map[string]int{}
	for from, ts := range by {
		// Sent() is in arrival order; At is taken under the fake's lock
		// after parsing, so sort to be exact.
		sortTimes(ts)
		best, j := 0, 0
		for i := range ts {
			for ts[i].Sub(ts[j]) >= time.Second {
				j++
			}
			best = max(best, i-j+1)
		}
		out[from] = best
	}
	return out
}

func sortTimes(ts []time.Time) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
}

func (f *fakeCarrier) String() string {
	return fmt.Sprintf("%d accepted, %d attempts, %d callbacks posted, %d given up", f.Count(), f.Attempts(),
		f.callbackOK.Load(), f.callbackFailed.Load())
}
