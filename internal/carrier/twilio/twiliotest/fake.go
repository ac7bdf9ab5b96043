// Package twiliotest is an in-process fake of Twilio's Messages REST API for
// tests and benchmarks. It is spoken to through the real twilio-go client
// (point twilio.New's apiURL at Fake.URL), so it uses twilio-go's exact paths,
// form fields, query names and JSON shapes: a test that passes here exercises
// the same code that talks to Twilio. It keeps no log per request and holds
// messages in one mutex-protected slice, so it can absorb benchmark traffic.
package twiliotest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Message is a create the fake accepted, as a test wants to assert on it.
type Message struct {
	SID                 string
	At                  time.Time // when the fake received the create
	From, To, Body      string
	MediaURLs           []string
	StatusCallback      string
	ValidityPeriod      int // seconds, 0 when not given
	MessagingServiceSID string
	Status              string // "queued" until SetStatus changes it
	ErrorCode           int    // set with SetStatus, 0 when none
}

// CreateRequest is one create as posted, given to a Rule so a test can fail
// chosen recipients (e.g. always 21610 for one number).
type CreateRequest struct {
	From, To, Body      string
	MediaURLs           []string
	StatusCallback      string
	ValidityPeriod      int
	MessagingServiceSID string
	Form                url.Values // every posted field, for anything else
}

// ErrorResponse is a Twilio REST error the fake answers with; it becomes
// {"code":…,"message":…,"more_info":…,"status":…} with HTTP status Status.
type ErrorResponse struct {
	Status  int // HTTP status, e.g. 400
	Code    int // Twilio error code, e.g. 21610
	Message string
}

// Rule decides, per create, whether the fake refuses it: return nil to
// accept. It runs after FailNext and after the fake's own parameter checks.
type Rule func(CreateRequest) *ErrorResponse

// Fake is a started fake Twilio API. Every method is safe for concurrent use.
type Fake struct {
	accountSID, authToken string
	srv                   *httptest.Server
	done                  chan struct{}

	mu       sync.Mutex
	msgs     []Message
	index    map[string]int // SID → position in msgs
	attempts int
	failN    int
	failErr  ErrorResponse
	// failAfterN creates are stored and then answered with failAfterErr.
	failAfterN   int
	failAfterErr ErrorResponse
	failListN    int // list calls to refuse
	failListErr  ErrorResponse
	spans        []span // every create request: when it arrived and when it was done
	hang         time.Duration
	latency      time.Duration
	onCreate     func(Message)
	rule         Rule
}

// New starts a fake for one account; requests must authenticate with
// accountSID and authToken (HTTP Basic, as twilio-go does). It is closed when
// the test ends, releasing any request held by Hang.
func New(t testing.TB, accountSID, authToken string) *Fake {
	t.Helper()
	f := &Fake{accountSID: accountSID, authToken: authToken, done: make(chan struct{}), index: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.done)
		f.srv.Close()
	})
	return f
}

// URL is the base URL to give twilio.New as apiURL (TWILIO_API_URL).
func (f *Fake) URL() string { return f.srv.URL }

// Sent returns every accepted create, in the order received.
func (f *Fake) Sent() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Message, len(f.msgs))
	copy(out, f.msgs)
	return out
}

// Count is len(Sent()) without the copy, for polling in benchmarks.
func (f *Fake) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs)
}

// Attempts counts every authenticated create, refused ones included, so a
// test can tell "never reached Twilio" from "reached it and was refused".
func (f *Fake) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts
}

// FailNext makes the next n creates fail with that HTTP status and Twilio
// code, before any other check; the messages are not stored.
func (f *Fake) FailNext(n, status, code int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN = n
	f.failErr = ErrorResponse{Status: status, Code: code, Message: message}
}

// FailNextAfterCreate makes the next n creates that pass the parameter
// checks and the Rule succeed — the message is stored and listed, as Twilio
// would have it — but answers them with that HTTP status and code: a 5xx
// from Twilio (or a proxy in front of it) after the message was created.
func (f *Fake) FailNextAfterCreate(n, status, code int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAfterN = n
	f.failAfterErr = ErrorResponse{Status: status, Code: code, Message: message}
}

// FailNextLists makes the next n list calls fail with that HTTP status and
// code, so a test can make lookups fail (n < 0: every one until changed).
func (f *Fake) FailNextLists(n, status, code int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failListN = n
	f.failListErr = ErrorResponse{Status: status, Code: code, Message: message}
}

// span is one create request's time at the fake.
type span struct {
	start, end time.Time // end is zero while the request is being handled
}

// CreatesInFlight counts the create requests that were being handled at
// some moment between from and to: arrived before to and not done before
// from. A client killed in that window can have left at most these without
// reading their answers.
func (f *Fake) CreatesInFlight(from, to time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.spans {
		if s.start.Before(to) && (s.end.IsZero() || !s.end.Before(from)) {
			n++
		}
	}
	return n
}

// Hang makes every create wait d after it has been decided (an accepted
// message is already stored) and before answering: the request reached
// Twilio but the answer is slow, which is what makes a send ambiguous.
// Hang(0) turns it off. A client that gives up ends the wait.
func (f *Fake) Hang(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = d
}

// SetLatency makes every request (create or list) wait d before it is
// processed, to model the network and Twilio's own processing time.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// OnCreate registers fn, called synchronously with each accepted message
// before the create is answered, so a test can deliver a status callback
// "before the create call returned". fn must not call back into the client
// waiting on this create. nil removes it.
func (f *Fake) OnCreate(fn func(Message)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onCreate = fn
}

// SetRule installs r to refuse chosen creates (nil removes it).
func (f *Fake) SetRule(r Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rule = r
}

// SetStatus changes a stored message's status and error code as later list
// and fetch calls report them, to model delivery or failure when a test
// resolves an ambiguous send. It reports whether the SID was known.
func (f *Fake) SetStatus(sid, status string, errorCode int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.index[sid]
	if ok {
		f.msgs[i].Status, f.msgs[i].ErrorCode = status, errorCode
	}
	return ok
}

const apiPrefix = "/2010-04-01/Accounts/"

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(f.accountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(f.authToken)) != 1 {
		writeError(w, ErrorResponse{Status: http.StatusUnauthorized, Code: 20003, Message: "Authenticate"})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix+f.accountSID+"/Messages")
	if !ok {
		writeError(w, notFound(r.URL.Path))
		return
	}
	f.mu.Lock()
	latency := f.latency
	if rest == ".json" && r.Method == http.MethodPost {
		i := len(f.spans)
		f.spans = append(f.spans, span{start: time.Now()})
		defer func() {
			f.mu.Lock()
			f.spans[i].end = time.Now()
			f.mu.Unlock()
		}()
	}
	f.mu.Unlock()
	if !f.sleep(r, latency) {
		return
	}
	switch {
	case rest == ".json" && r.Method == http.MethodPost:
		f.create(w, r)
	case rest == ".json" && r.Method == http.MethodGet:
		f.list(w, r)
	case strings.HasPrefix(rest, "/") && strings.HasSuffix(rest, ".json") && r.Method == http.MethodGet:
		f.fetch(w, r, strings.TrimSuffix(rest[1:], ".json"))
	case rest == ".json" || strings.HasPrefix(rest, "/"):
		writeError(w, ErrorResponse{Status: http.StatusMethodNotAllowed, Code: 20004, Message: "Method not allowed"})
	default:
		writeError(w, notFound(r.URL.Path))
	}
}

func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, ErrorResponse{Status: http.StatusBadRequest, Code: 20001, Message: "Invalid form: " + err.Error()})
		return
	}
	form := r.PostForm
	req := CreateRequest{
		From: form.Get("From"), To: form.Get("To"), Body: form.Get("Body"), MediaURLs: form["MediaUrl"],
		StatusCallback: form.Get("StatusCallback"), MessagingServiceSID: form.Get("MessagingServiceSid"), Form: form,
	}
	var bad *ErrorResponse
	if v := form.Get("ValidityPeriod"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 36000 {
			bad = &ErrorResponse{Status: http.StatusBadRequest, Code: 21000, Message: "ValidityPeriod must be an integer between 1 and 36000"}
		}
		req.ValidityPeriod = n
	}

	f.mu.Lock()
	f.attempts++
	var refused *ErrorResponse
	if f.failN > 0 {
		f.failN--
		e := f.failErr
		refused = &e
	}
	rule, hang := f.rule, f.hang
	f.mu.Unlock()

	if refused == nil {
		refused = validate(req, bad)
	}
	if refused == nil && rule != nil {
		refused = rule(req)
	}
	if refused != nil {
		if f.sleep(r, hang) {
			writeError(w, *refused)
		}
		return
	}

	m := Message{
		SID: newSID(), At: time.Now().UTC(), From: req.From, To: req.To, Body: req.Body,
		MediaURLs: req.MediaURLs, StatusCallback: req.StatusCallback, ValidityPeriod: req.ValidityPeriod,
		MessagingServiceSID: req.MessagingServiceSID, Status: "queued",
	}
	f.mu.Lock()
	f.index[m.SID] = len(f.msgs)
	f.msgs = append(f.msgs, m)
	onCreate := f.onCreate
	var after *ErrorResponse
	if f.failAfterN > 0 {
		f.failAfterN--
		e := f.failAfterErr
		after = &e
	}
	f.mu.Unlock()
	if onCreate != nil {
		onCreate(m)
	}
	if !f.sleep(r, hang) {
		return
	}
	if after != nil {
		writeError(w, *after)
		return
	}
	writeJSON(w, http.StatusCreated, f.messageJSON(m, false))
}

// validate applies the parameter checks Twilio makes, with its codes.
func validate(req CreateRequest, bad *ErrorResponse) *ErrorResponse {
	switch {
	case req.To == "":
		return &ErrorResponse{Status: http.StatusBadRequest, Code: 21604, Message: "A 'To' phone number is required."}
	case req.From == "" && req.MessagingServiceSID == "":
		return &ErrorResponse{Status: http.StatusBadRequest, Code: 21603, Message: "A 'From' phone number is required."}
	case req.Body == "" && len(req.MediaURLs) == 0 && req.Form.Get("ContentSid") == "":
		return &ErrorResponse{Status: http.StatusBadRequest, Code: 21602, Message: "Message body is required."}
	case utf8.RuneCountInString(req.Body) > 1600:
		return &ErrorResponse{Status: http.StatusBadRequest, Code: 21617, Message: "The concatenated message body exceeds the 1600 character limit."}
	}
	return bad
}

func (f *Fake) fetch(w http.ResponseWriter, _ *http.Request, sid string) {
	f.mu.Lock()
	i, ok := f.index[sid]
	var m Message
	if ok {
		m = f.msgs[i]
	}
	f.mu.Unlock()
	if !ok {
		writeError(w, notFound(sid))
		return
	}
	writeJSON(w, http.StatusOK, f.messageJSON(m, true))
}

// list answers GET Messages.json with twilio-go's query names: To, From,
// DateSent, DateSent< and DateSent> (twilio-go sends RFC 3339; YYYY-MM-DD is
// accepted too), PageSize (default 50, at most 1000) and Page. Newest first.
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	var refused *ErrorResponse
	if f.failListN != 0 {
		if f.failListN > 0 {
			f.failListN--
		}
		e := f.failListErr
		refused = &e
	}
	f.mu.Unlock()
	if refused != nil {
		writeError(w, *refused)
		return
	}
	q := r.URL.Query()
	var filters []func(Message) bool
	if v := q.Get("To"); v != "" {
		filters = append(filters, func(m Message) bool { return m.To == v })
	}
	if v := q.Get("From"); v != "" {
		filters = append(filters, func(m Message) bool { return m.From == v })
	}
	for _, name := range []string{"DateSent", "DateSent<", "DateSent>"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := parseFilterDate(v)
		if err != nil {
			writeError(w, ErrorResponse{Status: http.StatusBadRequest, Code: 20001, Message: "Invalid value for " + name})
			return
		}
		switch name {
		case "DateSent>":
			filters = append(filters, func(m Message) bool { return !m.At.Before(t) })
		case "DateSent<":
			filters = append(filters, func(m Message) bool { return !m.At.After(t) })
		default:
			u := t.UTC()
			day := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
			filters = append(filters, func(m Message) bool { return !m.At.Before(day) && m.At.Before(day.Add(24*time.Hour)) })
		}
	}
	pageSize, page := 50, 0
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, ErrorResponse{Status: http.StatusBadRequest, Code: 20001, Message: "Invalid PageSize"})
			return
		}
		pageSize = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, ErrorResponse{Status: http.StatusBadRequest, Code: 20001, Message: "Invalid Page"})
			return
		}
		page = n
	}

	var matched []Message
	f.mu.Lock()
	for i := len(f.msgs) - 1; i >= 0; i-- {
		if keep(f.msgs[i], filters) {
			matched = append(matched, f.msgs[i])
		}
	}
	f.mu.Unlock()

	start := min(page*pageSize, len(matched))
	end := min(start+pageSize, len(matched))
	items := make([]messageJSON, 0, end-start)
	for _, m := range matched[start:end] {
		items = append(items, f.messageJSON(m, true))
	}
	pageURI := func(p int) string {
		qq := url.Values{}
		for _, k := range []string{"To", "From", "DateSent", "DateSent<", "DateSent>"} {
			if v := q.Get(k); v != "" {
				qq.Set(k, v)
			}
		}
		qq.Set("PageSize", strconv.Itoa(pageSize))
		qq.Set("Page", strconv.Itoa(p))
		if p > 0 {
			qq.Set("PageToken", fmt.Sprintf("PA%d", p*pageSize))
		}
		return apiPrefix + f.accountSID + "/Messages.json?" + qq.Encode()
	}
	resp := listJSON{
		Messages: items, Page: page, PageSize: pageSize, Start: start, End: max(start, end-1),
		URI: pageURI(page), FirstPageURI: pageURI(0),
	}
	if end < len(matched) {
		s := pageURI(page + 1)
		resp.NextPageURI = &s
	}
	if page > 0 {
		s := pageURI(page - 1)
		resp.PreviousPageURI = &s
	}
	writeJSON(w, http.StatusOK, resp)
}

func keep(m Message, filters []func(Message) bool) bool {
	for _, ok := range filters {
		if !ok(m) {
			return false
		}
	}
	return true
}

func parseFilterDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}

// sleep waits d unless the client goes away or the fake is closed first; it
// reports whether the request should still be answered.
func (f *Fake) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-r.Context().Done():
	case <-f.done:
	}
	return false
}

// messageJSON is Twilio's Message resource as twilio-go decodes it
// (rest/api/v2010 ApiV2010Message): counts are strings, dates RFC 2822.
type messageJSON struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                string            `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	SID                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

type listJSON struct {
	End             int           `json:"end"`
	FirstPageURI    string        `json:"first_page_uri"`
	NextPageURI     *string       `json:"next_page_uri"`
	Page            int           `json:"page"`
	PageSize        int           `json:"page_size"`
	PreviousPageURI *string       `json:"previous_page_uri"`
	Messages        []messageJSON `json:"messages"`
	Start           int           `json:"start"`
	URI             string        `json:"uri"`
}

// messageJSON renders m. A create answer has no date_sent (still queued, as
// at Twilio); list and fetch treat the message as sent when received, so the
// DateSent filters have something to match.
func (f *Fake) messageJSON(m Message, sent bool) messageJSON {
	date := m.At.Format(time.RFC1123Z)
	uri := apiPrefix + f.accountSID + "/Messages/" + m.SID
	j := messageJSON{
		AccountSID: f.accountSID, APIVersion: "2010-04-01", Body: m.Body, DateCreated: date, DateUpdated: date,
		Direction: "outbound-api", From: m.From, NumMedia: strconv.Itoa(len(m.MediaURLs)),
		NumSegments: strconv.Itoa(segments(m.Body)), PriceUnit: "USD", SID: m.SID, Status: m.Status, To: m.To,
		URI: uri + ".json", SubresourceURIs: map[string]string{"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
	}
	if sent {
		j.DateSent = &date
	}
	if m.MessagingServiceSID != "" {
		j.MessagingServiceSID = &m.MessagingServiceSID
	}
	if m.ErrorCode != 0 {
		code := m.ErrorCode
		j.ErrorCode = &code
	}
	return j
}

// segments is a rough count (160/153 per segment, 70/67 outside ASCII); the
// fake needs a plausible num_segments, not a billing-grade one.
func segments(body string) int {
	n, single, multi := utf8.RuneCountInString(body), 160, 153
	for _, r := range body {
		if r > 0x7f {
			single, multi = 70, 67
			break
		}
	}
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

func notFound(what string) ErrorResponse {
	return ErrorResponse{Status: http.StatusNotFound, Code: 20404, Message: "The requested resource " + what + " was not found"}
}

func writeError(w http.ResponseWriter, e ErrorResponse) {
	writeJSON(w, e.Status, map[string]any{
		"code": e.Code, "message": e.Message, "status": e.Status,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(e.Code),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newSID returns "SM" + 32 hex characters, the shape of a Twilio message SID.
func newSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "SM" + hex.EncodeToString(b[:])
}
