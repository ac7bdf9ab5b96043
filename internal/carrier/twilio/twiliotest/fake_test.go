package twiliotest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	twilioapi "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
)

const (
	sid   = "ACfedcba9876543210fedcba9876543210"
	token = "fedcba9876543210fedcba9876543210"
	from  = "+14155550100"
	to    = "+14155550111"
)

// rewrite sends twilio-go's requests (addressed to api.twilio.com) to the fake.
type rewrite struct{ host string }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = "http", r.host
	return http.DefaultTransport.RoundTrip(req)
}

// setup returns a fake and twilio-go's Messages API pointed at it, so the
// fake is checked against the real client's paths, fields and JSON.
func setup(t *testing.T, clientToken string) (*twiliotest.Fake, *openapi.ApiService) {
	t.Helper()
	f := twiliotest.New(t, sid, token)
	tc := &twclient.Client{
		Credentials: twclient.NewCredentials(sid, clientToken),
		HTTPClient:  &http.Client{Transport: rewrite{strings.TrimPrefix(f.URL(), "http://")}, Timeout: 5 * time.Second},
	}
	tc.SetAccountSid(sid)
	return f, twilioapi.NewRestClientWithParams(twilioapi.ClientParams{Client: tc}).Api
}

func create(api *openapi.ApiService, to, body string) (*openapi.ApiV2010Message, error) {
	p := &openapi.CreateMessageParams{}
	p.SetFrom(from).SetTo(to).SetBody(body)
	return api.CreateMessage(p)
}

func TestCreateThroughTwilioGo(t *testing.T) {
	t.Parallel()
	f, api := setup(t, token)
	p := &openapi.CreateMessageParams{}
	p.SetFrom(from).SetTo(to).SetBody("hello").SetMediaUrl([]string{"https://x.test/1.png", "https://x.test/2.png"}).
		SetStatusCallback("https://parley.test/status?m=1").SetValidityPeriod(600)
	start := time.Now()
	m, err := api.CreateMessage(p)
	if err != nil {
		t.Fatalf("CreateMessage: %v", err)
	}
	if m.Sid == nil || len(*m.Sid) != 34 || !strings.HasPrefix(*m.Sid, "SM") || *m.Status != "queued" ||
		*m.To != to || *m.From != from || *m.Body != "hello" || *m.NumMedia != "2" || *m.NumSegments != "1" || m.DateSent != nil {
		t.Fatalf("answer = %+v", m)
	}
	created, err := time.Parse(time.RFC1123Z, *m.DateCreated)
	if err != nil || created.Before(start.Truncate(time.Second)) {
		t.Fatalf("date_created %q: %v", *m.DateCreated, err)
	}
	sent := f.Sent()
	if len(sent) != 1 || f.Count() != 1 || f.Attempts() != 1 {
		t.Fatalf("Sent = %+v", sent)
	}
	s := sent[0]
	if s.SID != *m.Sid || s.MediaURLs[1] != "https://x.test/2.png" || s.StatusCallback != "https://parley.test/status?m=1" ||
		s.ValidityPeriod != 600 || s.At.Before(start) {
		t.Fatalf("stored %+v", s)
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	f, api := setup(t, "0000000000000000000000000000000a")
	_, err := create(api, to, "hi")
	var re *twclient.TwilioRestError
	if !errors.As(err, &re) || re.Status != 401 || re.Code != 20003 {
		t.Fatalf("err = %v, want 401/20003", err)
	}
	if f.Attempts() != 0 {
		t.Fatal("an unauthenticated create counted")
	}
	resp, err := http.Get(f.URL() + "/2010-04-01/Accounts/" + sid + "/Messages.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("no auth: status %d", resp.StatusCode)
	}
}

func TestParameterChecks(t *testing.T) {
	t.Parallel()
	_, api := setup(t, token)
	for _, tc := range []struct {
		to, body string
		code     int
	}{
		{"", "hi", 21604},
		{to, "", 21602},
		{to, strings.Repeat("a", 1601), 21617},
	} {
		_, err := create(api, tc.to, tc.body)
		var re *twclient.TwilioRestError
		if !errors.As(err, &re) || re.Code != tc.code || re.Status != 400 || re.MoreInfo == "" {
			t.Errorf("to %q body len %d: err = %v, want %d", tc.to, len(tc.body), err, tc.code)
		}
	}
}

func TestFailNextAndRule(t *testing.T) {
	t.Parallel()
	f, api := setup(t, token)
	f.FailNext(2, 429, 20429, "Too Many Requests")
	f.SetRule(func(r twiliotest.CreateRequest) *twiliotest.ErrorResponse {
		if r.To == "+14155550199" {
			return &twiliotest.ErrorResponse{Status: 400, Code: 21610, Message: "unsubscribed"}
		}
		return nil
	})
	codes := []int{}
	for _, dest := range []string{to, to, "+14155550199", to} {
		_, err := create(api, dest, "hi")
		var re *twclient.TwilioRestError
		switch {
		case err == nil:
			codes = append(codes, 0)
		case errors.As(err, &re):
			codes = append(codes, re.Code)
		default:
			t.Fatalf("err = %v", err)
		}
	}
	if want := []int{20429, 20429, 21610, 0}; !slices.Equal(codes, want) {
		t.Fatalf("codes = %v, want %v", codes, want)
	}
	if f.Count() != 1 || f.Attempts() != 4 {
		t.Fatalf("count %d attempts %d, want 1 and 4", f.Count(), f.Attempts())
	}
}

func TestOnCreateRunsBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	f, api := setup(t, token)
	var mu sync.Mutex
	var events []string
	f.OnCreate(func(m twiliotest.Message) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, "callback "+m.To)
	})
	if _, err := create(api, to, "hi"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	events = append(events, "returned")
	got := strings.Join(events, ", ")
	mu.Unlock()
	if got != "callback "+to+", returned" {
		t.Fatalf("events = %s", got)
	}
}

func TestHangAndLatency(t *testing.T) {
	t.Parallel()
	f, api := setup(t, token)
	f.SetLatency(50 * time.Millisecond)
	start := time.Now()
	if _, err := create(api, to, "hi"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("latency not applied: %s", d)
	}
	f.SetLatency(0)

	// A hung create is stored, then the client gives up; the fake's cleanup
	// must not wait for the hang.
	f.Hang(time.Hour)
	hc := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, f.URL()+"/2010-04-01/Accounts/"+sid+"/Messages.json",
		strings.NewReader(url.Values{"From": {from}, "To": {to}, "Body": {"late"}}.Encode()))
	req.SetBasicAuth(sid, token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("hung create answered")
	}
	if f.Count() != 2 || f.Sent()[1].Body != "late" {
		t.Fatalf("hung create not stored: %+v", f.Sent())
	}
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	f, api := setup(t, token)
	for i := range 5 {
		if _, err := create(api, to, "n"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := create(api, "+14155550122", "other"); err != nil {
		t.Fatal(err)
	}
	f.SetStatus(f.Sent()[0].SID, "failed", 30007)

	// twilio-go follows next_page_uri across pages of 2.
	p := &openapi.ListMessageParams{}
	p.SetTo(to).SetFrom(from).SetPageSize(2).SetDateSentAfter(time.Now().Add(-time.Hour))
	msgs, err := api.ListMessage(p)
	if err != nil {
		t.Fatalf("ListMessage: %v", err)
	}
	var bodies []string
	for _, m := range msgs {
		bodies = append(bodies, *m.Body)
	}
	if got := strings.Join(bodies, " "); got != "n4 n3 n2 n1 n0" {
		t.Fatalf("bodies = %s, want newest first", got)
	}
	if last := msgs[4]; *last.Status != "failed" || last.ErrorCode == nil || *last.ErrorCode != 30007 || last.DateSent == nil {
		t.Fatalf("last = %+v", last)
	}

	p = &openapi.ListMessageParams{}
	p.SetTo(to).SetDateSentAfter(time.Now().Add(time.Hour))
	if msgs, err = api.ListMessage(p); err != nil || len(msgs) != 0 {
		t.Fatalf("DateSent> future: %d messages, %v", len(msgs), err)
	}
	p = &openapi.ListMessageParams{}
	p.SetDateSentBefore(time.Now().Add(-time.Hour))
	if msgs, err = api.ListMessage(p); err != nil || len(msgs) != 0 {
		t.Fatalf("DateSent< past: %d messages, %v", len(msgs), err)
	}
	p = &openapi.ListMessageParams{}
	p.SetDateSent(time.Now())
	if msgs, err = api.ListMessage(p); err != nil || len(msgs) != 6 {
		t.Fatalf("DateSent today: %d messages, %v", len(msgs), err)
	}

	// The raw page, as Twilio shapes it.
	req, _ := http.NewRequest(http.MethodGet, f.URL()+"/2010-04-01/Accounts/"+sid+"/Messages.json?To=%2B14155550122&DateSent%3E=2020-01-01", nil)
	req.SetBasicAuth(sid, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if page["page"] != 0.0 || page["page_size"] != 50.0 || page["next_page_uri"] != nil || len(page["messages"].([]any)) != 1 {
		t.Fatalf("page = %v", page)
	}
}

func TestFetch(t *testing.T) {
	t.Parallel()
	_, api := setup(t, token)
	m, err := create(api, to, "hi")
	if err != nil {
		t.Fatal(err)
	}
	got, err := api.FetchMessage(*m.Sid, nil)
	if err != nil || *got.Sid != *m.Sid {
		t.Fatalf("FetchMessage = %+v, %v", got, err)
	}
	_, err = api.FetchMessage("SM00000000000000000000000000000000", nil)
	var re *twclient.TwilioRestError
	if !errors.As(err, &re) || re.Status != 404 {
		t.Fatalf("unknown SID: %v", err)
	}
}
