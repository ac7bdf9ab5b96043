package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/inbound"
	"github.com/parleyhq/parley/internal/queue"
)

// With Postgres really unreachable, verified webhooks are answered 200 and kept
// in the spool; once Postgres is back they are stored in arrival order, each
// exactly once, even the ones Twilio delivered twice.
func TestSpoolWhileDatabaseIsDown(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{ViaProxy: true})
	phone := "+16465550100"
	env.PostForm(t, smsPath, apptest.Inbound("SMa0000000000000000000000000000000", phone, "before the outage"))

	env.Proxy.Cut()
	for i := 1; i <= 20; i++ {
		code, body := env.PostForm(t, smsPath, apptest.Inbound(fmt.Sprintf("SMa%033d", i), phone, fmt.Sprintf("during %02d", i)))
		if code != 200 {
			t.Fatalf("message %d while Postgres is down: %d %s, want 200", i, code, body)
		}
	}
	// A duplicate delivery during the outage and a STOP.
	env.PostForm(t, smsPath, apptest.Inbound("SMa000000000000000000000000000000005", phone, "during 05"))
	env.PostForm(t, smsPath, apptest.Inbound("SMa000000000000000000000000000000021", phone, "STOP"))
	if n := env.Count(t, `SELECT count(*) FROM messages`); n != 1 {
		t.Fatalf("%d messages reached Postgres through a cut connection", n)
	}
	if p := env.App.Inbound.Pending(); p != 22 {
		t.Fatalf("spool holds %d, want 22", p)
	}
	// The STOP was answered 200 and Postgres does not know it: the senders
	// are told to leave the phone alone until the replay.
	marks := queue.NewSpooledOptOuts(env.App.Redis, env.Prefix)
	if phones, err := marks.Phones(context.Background()); err != nil || fmt.Sprint(phones) != fmt.Sprint([]string{phone}) {
		t.Fatalf("phones marked for the senders during the outage: %v (%v), want [%s]", phones, err, phone)
	}

	env.Proxy.Restore()
	apptest.WaitFor(t, 20*time.Second, "the spool to drain", func() bool { return env.App.Inbound.Pending() == 0 })
	if phones, err := marks.Phones(context.Background()); err != nil || len(phones) != 0 {
		t.Fatalf("phones still marked after the replay: %v (%v)", phones, err)
	}
	// New traffic after the outage goes straight through.
	env.PostForm(t, smsPath, apptest.Inbound("SMa000000000000000000000000000000099", phone, "after"))

	msgs, err := env.Store.MessagesBetween(context.Background(), apptest.BrandNumber, phone, 100)
	if err != nil {
		t.Fatal(err)
	}
	var inbound []string
	for _, m := range msgs {
		if m.Direction == "inbound" {
			inbound = append(inbound, m.Body)
		}
	}
	want := []string{"before the outage"}
	for i := 1; i <= 20; i++ {
		want = append(want, fmt.Sprintf("during %02d", i))
	}
	want = append(want, "STOP", "after")
	if fmt.Sprint(inbound) != fmt.Sprint(want) {
		t.Fatalf("stored in order\n%v\nwant\n%v", inbound, want)
	}
	if n := env.Count(t, `SELECT count(*) FROM consent_events WHERE phone = $1 AND status = 'opted_out'`, phone); n != 2 {
		t.Fatalf("the spooled STOP recorded %d opt-outs, want 2", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE received_at < created_at - interval '10 milliseconds'`); n < 20 {
		t.Fatalf("replayed messages should keep the time Twilio reached us; %d do", n)
	}
}

// Status callbacks that arrive while Postgres is away are spooled too, and
// applied once it is back: Twilio does not retry them.
func TestStatusCallbackSpooled(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{ViaProxy: true})
	id := queuedReply(t, env, "+16465550109")
	env.Proxy.Cut()
	if code, _ := apptest.Get(t, env.PublicURL+"/readyz"); code != 503 {
		t.Fatalf("/readyz with Postgres cut: %d, want 503", code)
	}
	sid := "SMd0000000000000000000000000000001"
	if code, body := env.PostForm(t, fmt.Sprintf("%s?m=%d", statusPath, id), statusForm(sid, "delivered", "")); code != 200 {
		t.Fatalf("status callback during the outage: %d %s", code, body)
	}
	env.Proxy.Restore()
	apptest.WaitFor(t, 20*time.Second, "the spooled status to apply", func() bool {
		st, got, _ := status(t, env, id)
		return st == "delivered" && got == sid
	})
	if code, _ := apptest.Get(t, env.PublicURL+"/readyz"); code != 200 {
		t.Fatalf("/readyz after the outage: %d, want 200", code)
	}
}

// A hung Postgres (connections open, nothing answered): every text is still
// answered 200 well within Twilio's 15 s and stored once Postgres answers.
func TestSpoolWhileDatabaseHangs(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{ViaProxy: true})
	phone := "+16465550200"
	env.PostForm(t, smsPath, apptest.Inbound("SMf0000000000000000000000000000000", phone, "before"))
	env.Proxy.Stall()
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			code, body := env.PostForm(t, smsPath, apptest.Inbound(fmt.Sprintf("SMf%033d", i), phone, fmt.Sprintf("during %d", i)))
			if code != 200 || time.Since(start) > 8*time.Second {
				t.Errorf("text %d while Postgres hangs: %d %s after %s", i, code, body, time.Since(start))
			}
		}()
	}
	wg.Wait()
	env.Proxy.Restore()
	apptest.WaitFor(t, 20*time.Second, "the spool to drain", func() bool { return env.App.Inbound.Pending() == 0 })
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE from_number = $1`, phone); n != 4 {
		t.Fatalf("%d messages stored, want 4 (each once)", n)
	}
}

// A spooled record Postgres refuses is set aside; the texts behind it flow.
func TestPoisonRecordDoesNotBlockTheSpool(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{ViaProxy: true})
	env.Proxy.Cut()
	// A NUL cannot be stored in Postgres text; the webhook cleans bodies, so
	// put such a record straight into the spool, as an older version might have.
	if _, err := env.App.Inbound.SpoolForTest(inbound.Message{SID: "SMg0000000000000000000000000000000", From: "+16465550300",
		To: apptest.BrandNumber, Body: "poison" + strings.Repeat("\x00", 2), ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	env.PostForm(t, smsPath, apptest.Inbound("SMg0000000000000000000000000000001", "+16465550301", "after the poison"))
	env.Proxy.Restore()
	apptest.WaitFor(t, 20*time.Second, "the spool to drain", func() bool { return env.App.Inbound.Pending() == 0 })
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE body = 'after the poison'`); n != 1 {
		t.Fatalf("the text behind the poison record was not stored")
	}
}

// A spool filled under load is replayed in batches, as live texts are
// stored, and not one transaction per text: replayed one by one it drained
// slower than texts kept arriving behind it, so in the soak it never
// emptied and STOPs waited in it for minutes. Each customer's texts keep
// their order.
func TestSpoolReplaysInBatches(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{ViaProxy: true})
	env.Proxy.Cut()
	const n, phones = 200, 10
	for i := 0; i < n; i++ {
		phone := fmt.Sprintf("+1646555%04d", 400+i%phones)
		if code, body := env.PostForm(t, smsPath, apptest.Inbound(fmt.Sprintf("SMb%033d", i), phone, fmt.Sprintf("text %03d", i))); code != 200 {
			t.Fatalf("text %d while Postgres is down: %d %s", i, code, body)
		}
	}
	env.Proxy.Restore()
	apptest.WaitFor(t, 20*time.Second, "the spool to drain", func() bool { return env.App.Inbound.Pending() == 0 })
	if got := env.Count(t, `SELECT count(*) FROM messages WHERE direction = 'inbound'`); got != n {
		t.Fatalf("%d texts stored, want %d", got, n)
	}
	// Rows written by one transaction share its xmin.
	if txs := env.Count(t, `SELECT count(DISTINCT xmin::text) FROM messages WHERE direction = 'inbound'`); txs > n/20 {
		t.Fatalf("the replay stored %d texts in %d transactions, want batches (at most %d)", n, txs, n/20)
	}
	for p := 0; p < phones; p++ {
		phone := fmt.Sprintf("+1646555%04d", 400+p)
		msgs, err := env.Store.MessagesBetween(context.Background(), apptest.BrandNumber, phone, 100)
		if err != nil {
			t.Fatal(err)
		}
		last := ""
		for _, m := range msgs {
			if m.Direction == "inbound" && m.Body <= last {
				t.Fatalf("%s: %q stored after %q", phone, m.Body, last)
			}
			if m.Direction == "inbound" {
				last = m.Body
			}
		}
	}
}
