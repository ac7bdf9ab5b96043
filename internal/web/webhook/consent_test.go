package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store"
)

type ledgerRow struct{ purpose, status, source string }

func ledger(t *testing.T, env *apptest.Env, phone string) []ledgerRow {
	t.Helper()
	rows, err := env.Store.Pool.Query(context.Background(),
		`SELECT purpose, status, source FROM consent_events WHERE phone = $1 ORDER BY id`, phone)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []ledgerRow
	for rows.Next() {
		var r ledgerRow
		if err := rows.Scan(&r.purpose, &r.status, &r.source); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func outbound(t *testing.T, env *apptest.Env, phone string) []store.Message {
	t.Helper()
	msgs, err := env.Store.MessagesBetween(context.Background(), apptest.BrandNumber, phone, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Message
	for _, m := range msgs {
		if m.Direction == "outbound" {
			out = append(out, m)
		}
	}
	return out
}

// Every member of the STOP family, however it is typed, opts the phone out of
// both purposes and queues exactly one confirmation in the conversation.
func TestStopFamily(t *testing.T) {
	env := setup(t)
	bodies := []string{"STOP", "stop", " Stop. ", "STOPALL", "Unsubscribe", "cancel", "END", "quit!", "OptOut", "REVOKE",
		"Please stop texting me", "remove me from your list", "unsubscribe me"}
	for i, body := range bodies {
		phone := fmt.Sprintf("+1212555%04d", i)
		if code, resp := env.PostForm(t, smsPath, apptest.Inbound(fmt.Sprintf("SM5%033d", i), phone, body)); code != 200 {
			t.Fatalf("%q: %d %s", body, code, resp)
		}
		got := ledger(t, env, phone)
		want := []ledgerRow{{"conversational", "opted_out", "keyword"}, {"marketing", "opted_out", "keyword"}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: ledger %v, want %v", body, got, want)
		}
		out := outbound(t, env, phone)
		if len(out) != 1 || out[0].Origin != "compliance" || out[0].Status != "queued" ||
			!strings.Contains(out[0].Body, "unsubscribed") || out[0].ConversationID == 0 {
			t.Fatalf("%q: outbound %+v, want one queued confirmation in the conversation", body, out)
		}
	}
}

// Twilio's Advanced Opt-Out may have matched a keyword in another language.
func TestOptOutTypeField(t *testing.T) {
	env := setup(t)
	f := apptest.Inbound("SM60000000000000000000000000000001", "+13125550100", "ARRÊT")
	f.Set("OptOutType", "STOP")
	env.PostForm(t, smsPath, f)
	if got := ledger(t, env, "+13125550100"); len(got) != 2 || got[0].status != "opted_out" {
		t.Fatalf("ledger %v, want opted out of both", got)
	}
}

// STOP twice: one confirmation. START: conversational back, marketing stays out.
// HELP: the brand's help text.
func TestStopStartHelp(t *testing.T) {
	env := setup(t)
	phone := "+13125550101"
	send := func(n int, body string) {
		if code, resp := env.PostForm(t, smsPath, apptest.Inbound(fmt.Sprintf("SM7%033d", n), phone, body)); code != 200 {
			t.Fatalf("%q: %d %s", body, code, resp)
		}
	}
	send(1, "STOP")
	send(2, "stop")
	if out := outbound(t, env, phone); len(out) != 1 {
		t.Fatalf("%d confirmations after two STOPs, want 1", len(out))
	}
	send(3, "START")
	got := ledger(t, env, phone)
	last := got[len(got)-1]
	if last != (ledgerRow{"conversational", "opted_in", "keyword"}) {
		t.Fatalf("after START the newest ledger row is %v", last)
	}
	for _, r := range got {
		if r.purpose == "marketing" && r.status == "opted_in" {
			t.Fatal("START must not opt in to marketing")
		}
	}
	send(4, "HELP")
	out := outbound(t, env, phone)
	if len(out) != 3 || !strings.Contains(out[1].Body, "resubscribed") || !strings.Contains(out[2].Body, "Demo Air") {
		t.Fatalf("replies %+v, want confirmation, resubscribe, help", out)
	}
}

// A message that might be a revocation is not acted on but flagged for a person.
func TestPossibleRevocationIsFlagged(t *testing.T) {
	env := setup(t)
	phone := "+13125550102"
	env.PostForm(t, smsPath, apptest.Inbound("SM80000000000000000000000000000001", phone, "can you stop texting me about deals but keep flight alerts?"))
	if got := ledger(t, env, phone); len(got) != 0 {
		t.Fatalf("ledger %v, want nothing recorded", got)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE needs_attention LIKE 'possible opt-out%'`); n != 1 {
		t.Fatalf("%d flagged conversations, want 1", n)
	}
	if out := outbound(t, env, phone); len(out) != 0 {
		t.Fatalf("no automatic reply expected, got %+v", out)
	}
}

// A closed conversation is reopened by the customer's next text, not duplicated.
func TestClosedConversationReopens(t *testing.T) {
	env := setup(t)
	phone := "+13125550103"
	env.PostForm(t, smsPath, apptest.Inbound("SM90000000000000000000000000000001", phone, "first"))
	if _, err := env.Store.Pool.Exec(context.Background(), `UPDATE conversations SET status = 'closed'`); err != nil {
		t.Fatal(err)
	}
	env.PostForm(t, smsPath, apptest.Inbound("SM90000000000000000000000000000002", phone, "second"))
	if n := env.Count(t, `SELECT count(*) FROM conversations`); n != 1 {
		t.Fatalf("%d conversations, want 1", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE status = 'open'`); n != 1 {
		t.Fatal("the conversation was not reopened")
	}
}
