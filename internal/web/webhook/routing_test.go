package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/carrier/twilio/twiliotest"
	"github.com/parleyhq/parley/internal/contact"
)

// routed is an environment with the send worker running, whose webhooks and
// sender read clock (nanoseconds since the epoch, settable by the test).
type routed struct {
	*apptest.Env
	clock *atomic.Int64
	auto  *automation.Service
	seq   int
}

func routedEnv(t *testing.T, at time.Time) *routed {
	t.Helper()
	t.Parallel()
	clock := newClock(at)
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	env := apptest.New(t, apptest.Options{Worker: true, App: func(o *app.Options) { o.Now = now }})
	return &routed{Env: env, clock: clock, auto: automation.NewService(env.Store, env.App.Routing)}
}

func newClock(at time.Time) *atomic.Int64 {
	c := &atomic.Int64{}
	c.Store(at.UnixNano())
	return c
}

func (r *routed) text(t *testing.T, from, body string) {
	t.Helper()
	r.seq++
	if code, resp := r.PostForm(t, smsPath, apptest.Inbound(fmt.Sprintf("SM9%033d", r.seq), from, body)); code != 200 {
		t.Fatalf("%q: %d %s", body, code, resp)
	}
}

func (r *routed) settings(t *testing.T, body string) {
	t.Helper()
	if _, err := r.auto.PutSettings(context.Background(), r.Brand, []byte(body)); err != nil {
		t.Fatal(err)
	}
}

func (r *routed) rule(t *testing.T, rule automation.Rule) {
	t.Helper()
	if _, err := r.auto.CreateRule(context.Background(), r.Brand.ID, rule); err != nil {
		t.Fatal(err)
	}
}

// sentTo lists what the fake Twilio accepted for phone.
func (r *routed) sentTo(phone string) []twiliotest.Message {
	var out []twiliotest.Message
	for _, m := range r.Twilio.Sent() {
		if m.To == phone {
			out = append(out, m)
		}
	}
	return out
}

// settle waits until nothing is queued or sending any more.
func (r *routed) settle(t *testing.T) {
	t.Helper()
	apptest.WaitFor(t, 10*time.Second, "the outbox to drain", func() bool {
		return r.Count(t, `SELECT count(*) FROM messages WHERE direction = 'outbound' AND status IN ('queued', 'sending')`) == 0
	})
}

func newYork(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const weekdays9to5 = `{"timezone": "America/New_York", "business_hours": {"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
	"wed": [["09:00","17:00"]], "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]], "sat": [], "sun": []}}`

// A keyword rule answers at once with the contact's own name, and the
// conversation closes itself; STOP beats a rule that matches "stop".
func TestAutoReplyArrivesPersonalised(t *testing.T) {
	r := routedEnv(t, newYork(t, "2026-03-04 11:00"))
	r.rule(t, automation.Rule{Match: "first_word", Pattern: "hours", Reply: `Hi {{default "there" .FirstName}}, we're open 9–17.`})
	r.rule(t, automation.Rule{Match: "contains", Pattern: "stop", Reply: "Our stops: Main St and 5th Ave."})
	const ana, stranger = "+12125550181", "+12125550182"
	if _, err := contact.NewService(r.Store).Upsert(context.Background(), contact.Upsert{Phones: []string{ana}, Name: "Ana López"}); err != nil {
		t.Fatal(err)
	}
	r.text(t, ana, "Hours?")
	r.text(t, stranger, "HOURS please")
	apptest.WaitFor(t, 10*time.Second, "both auto-replies at the carrier", func() bool {
		return len(r.sentTo(ana)) == 1 && len(r.sentTo(stranger)) == 1
	})
	if got := r.sentTo(ana)[0].Body; got != "Hi Ana, we're open 9–17." {
		t.Errorf("Ana got %q", got)
	}
	if got := r.sentTo(stranger)[0].Body; got != "Hi there, we're open 9–17." {
		t.Errorf("a customer without a name got %q", got)
	}
	if n := r.Count(t, `SELECT count(*) FROM conversations c JOIN contact_phones p ON p.contact_id = c.contact_id
		WHERE p.phone = $1 AND c.status = 'closed'`, ana); n != 1 {
		t.Error("a rule without hand_to_agent closes the conversation after its answer")
	}
	if n := r.Count(t, `SELECT count(*) FROM conversation_activity WHERE kind = 'auto_replied'`); n != 2 {
		t.Errorf("%d auto-replies in the history, want 2", n)
	}

	const stopper = "+12125550183"
	r.text(t, stopper, "STOP")
	r.settle(t)
	sent := r.sentTo(stopper)
	if len(sent) != 1 || strings.Contains(sent[0].Body, "Main St") {
		t.Fatalf("STOP got %+v, want only the opt-out confirmation", sent)
	}
	// Ana writes again: the conversation reopens and waits for a person.
	r.clock.Add(int64(time.Minute))
	r.text(t, ana, "Thanks! One more question")
	if n := r.Count(t, `SELECT count(*) FROM conversations c JOIN contact_phones p ON p.contact_id = c.contact_id
		WHERE p.phone = $1 AND c.status = 'open' AND c.waiting_since IS NOT NULL`, ana); n != 1 {
		t.Error("a new text after the auto-reply reopens the conversation for a person")
	}
}

// At 03:58 a new customer's two texts get one acknowledgement naming the
// next opening; both land in the inbox waiting for a person.
func TestAfterHoursOneAcknowledgement(t *testing.T) {
	r := routedEnv(t, newYork(t, "2026-03-04 03:58")) // a Wednesday
	r.settings(t, weekdays9to5)
	const phone = "+12125550191"
	r.text(t, phone, "Hello, my bag did not arrive")
	r.text(t, phone, "Is anyone there?")
	r.settle(t)
	sent := r.sentTo(phone)
	if len(sent) != 1 || sent[0].Body != "We're closed now; an agent will answer from 9:00 today." {
		t.Fatalf("after hours got %+v, want one acknowledgement", sent)
	}
	if n := r.Count(t, `SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.from_number = $1 AND m.direction = 'inbound' AND c.status = 'open' AND c.waiting_since IS NOT NULL`, phone); n != 2 {
		t.Fatalf("%d texts wait in the inbox, want both", n)
	}
	// Friday 18:00 the conversation is still open: no acknowledgement for a
	// text that does not reopen it. Closed by an agent, a text on Saturday
	// reopens it in a later closed period: acknowledged again, naming Monday.
	r.clock.Store(newYork(t, "2026-03-06 18:00").UnixNano())
	r.text(t, phone, "Still waiting")
	if _, err := r.Store.Pool.Exec(context.Background(), `UPDATE conversations SET status = 'closed', waiting_since = NULL
		WHERE id = (SELECT conversation_id FROM messages WHERE from_number = $1 LIMIT 1)`, phone); err != nil {
		t.Fatal(err)
	}
	r.clock.Store(newYork(t, "2026-03-07 10:00").UnixNano())
	r.text(t, phone, "Hello again")
	r.settle(t)
	sent = r.sentTo(phone)
	if len(sent) != 2 || sent[1].Body != "We're closed now; an agent will answer from 9:00 on Monday." {
		t.Fatalf("a reopening in a later closed period got %+v", sent)
	}
}

// An automated sender that answers every automated text is stopped: one
// auto-reply, never the same one again within 10 minutes, and short codes
// and alphanumeric senders get nothing automated at all.
func TestAutomationDoesNotLoop(t *testing.T) {
	r := routedEnv(t, newYork(t, "2026-03-04 11:00"))
	r.rule(t, automation.Rule{Match: "contains", Pattern: "status", Reply: "Your order ships tomorrow.", HandToAgent: true})
	const bot = "+12125550199"
	for i := 0; i < 8; i++ {
		r.clock.Add(int64(time.Second))
		r.text(t, bot, "Auto-response: thanks for your message, status unknown")
	}
	r.text(t, "22395", "status")
	r.text(t, "ACMEBANK", "status update")
	r.settle(t)
	if sent := r.sentTo(bot); len(sent) != 1 {
		t.Fatalf("an automated sender got %d auto-replies, want 1", len(sent))
	}
	if n := len(r.sentTo("22395")) + len(r.sentTo("ACMEBANK")); n != 0 {
		t.Fatalf("short code and alphanumeric sender got %d automated texts", n)
	}
	if n := r.Count(t, `SELECT count(*) FROM messages WHERE from_number = $1 AND direction = 'inbound'`, bot); n != 8 {
		t.Fatalf("%d of the 8 texts stored", n)
	}
	if n := r.Count(t, `SELECT count(*) FROM conversation_activity WHERE kind = 'automation_withheld'`); n < 7 {
		t.Errorf("%d withheld answers recorded, want the 7 repeats and the two machines' at least", n)
	}
}

// Double opt-in by text: the brand's keyword (JOIN) is answered with a
// request to confirm and records nothing; a YES within 24 hours records
// marketing consent with the exchange as evidence and is confirmed; a YES
// without a request, or a day too late, is an ordinary text.
func TestDoubleOptInByText(t *testing.T) {
	r := routedEnv(t, newYork(t, "2026-03-04 11:00"))
	r.settings(t, `{"opt_in_keyword": "JOIN"}`)
	const phone, late, nobody = "+12125550801", "+12125550802", "+12125550803"
	marketing := func(p string) string {
		var st, ev string
		_ = r.Store.Pool.QueryRow(context.Background(), `SELECT status, evidence FROM consent_events
			WHERE phone = $1 AND purpose = 'marketing' ORDER BY id DESC LIMIT 1`, p).Scan(&st, &ev)
		return st + " " + ev
	}
	r.text(t, phone, "Join!")
	apptest.WaitFor(t, 5*time.Second, "the request to confirm", func() bool {
		ms := r.sentTo(phone)
		return len(ms) == 1 && strings.HasPrefix(ms[0].Body, "Reply YES to get offers from Demo Air.")
	})
	if got := marketing(phone); got != " " {
		t.Fatalf("JOIN alone recorded consent: %q", got)
	}
	r.clock.Add(int64(3 * time.Hour))
	r.text(t, phone, "yes")
	apptest.WaitFor(t, 5*time.Second, "the confirmation", func() bool {
		ms := r.sentTo(phone)
		return len(ms) == 2 && strings.Contains(ms[1].Body, "you will get our offers")
	})
	if got := marketing(phone); !strings.HasPrefix(got, "opted_in double opt-in: confirmation request") {
		t.Fatalf("marketing consent after YES: %q", got)
	}

	r.text(t, late, "JOIN")
	apptest.WaitFor(t, 5*time.Second, "the second request", func() bool { return len(r.sentTo(late)) == 1 })
	r.clock.Add(int64(25 * time.Hour))
	r.text(t, late, "YES")
	r.text(t, nobody, "YES")
	r.settle(t)
	if got := marketing(late); got != " " {
		t.Fatalf("a YES 25 hours later recorded %q", got)
	}
	if got := marketing(nobody); got != " " || len(r.sentTo(nobody)) != 0 {
		t.Fatalf("a YES without a request: %q, %d texts", got, len(r.sentTo(nobody)))
	}
	if _, err := r.auto.PutSettings(context.Background(), r.Brand, []byte(`{"opt_in_keyword": "STOP"}`)); err == nil {
		t.Fatal("STOP accepted as the opt-in keyword")
	}
}
