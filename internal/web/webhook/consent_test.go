package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/inbound"
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

// YES, START and UNSTOP from a phone that never opted out are ordinary texts
// (a "Yes" answering "shall I book it?"): stored, but no ledger row and no
// "resubscribed" reply. After a STOP, YES opts back in with one reply.
func TestOptInKeywordNeedsAnOptOut(t *testing.T) {
	env := setup(t)
	send := func(sid, phone, body string) {
		t.Helper()
		if code, resp := env.PostForm(t, smsPath, apptest.Inbound(sid, phone, body)); code != 200 {
			t.Fatalf("%q: %d %s", body, code, resp)
		}
	}
	for i, body := range []string{"yes", "START", "Unstop!"} {
		phone := fmt.Sprintf("+1312555%04d", 200+i)
		send(fmt.Sprintf("SMa%033d", i), phone, body)
		if got := ledger(t, env, phone); len(got) != 0 {
			t.Errorf("%q from a phone that never opted out: ledger %v, want nothing", body, got)
		}
		if out := outbound(t, env, phone); len(out) != 0 {
			t.Errorf("%q from a phone that never opted out: replies %+v, want none", body, out)
		}
		if n := env.Count(t, `SELECT count(*) FROM messages WHERE direction = 'inbound' AND from_number = $1 AND body = $2`, phone, body); n != 1 {
			t.Errorf("%q: %d inbound messages stored, want 1", body, n)
		}
	}

	phone := "+13125550210"
	send("SMa000000000000000000000000000000010", phone, "STOP")
	send("SMa000000000000000000000000000000011", phone, "yes")
	got := ledger(t, env, phone)
	want := []ledgerRow{{"conversational", "opted_out", "keyword"}, {"marketing", "opted_out", "keyword"}, {"conversational", "opted_in", "keyword"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("STOP then YES: ledger %v, want %v", got, want)
	}
	var resub int
	for _, m := range outbound(t, env, phone) {
		if strings.Contains(m.Body, "resubscribed") {
			resub++
		}
	}
	if resub != 1 {
		t.Fatalf("STOP then YES: %d resubscribed replies, want 1", resub)
	}
	// Already back in: a second YES is just a message.
	send("SMa000000000000000000000000000000012", phone, "YES")
	if got := ledger(t, env, phone); len(got) != 3 {
		t.Fatalf("a second YES wrote to the ledger: %v", got)
	}
	if out := outbound(t, env, phone); len(out) != 2 {
		t.Fatalf("after STOP, YES, YES: %d replies, want the confirmation and one resubscribe", len(out))
	}
}

// putContact calls PUT /api/v1/contacts with a fresh API key.
func putContact(t *testing.T, env *apptest.Env, body any) (int, string) {
	t.Helper()
	const key = "pk_test_consent_0123456789abcdef"
	if _, err := env.Store.APIKeyByKey(context.Background(), key); err != nil {
		if _, err := env.Store.CreateAPIKey(context.Background(), "consent test", key); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, env.PublicURL+"/api/v1/contacts", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// A STOP texted by the customer is not undone by an API opt-in: 409 conflict,
// nothing recorded. An opt-in needs evidence (400), and a web form opt-in with
// evidence is a person re-consenting.
func TestAPIOptInCannotOverrideAStop(t *testing.T) {
	env := setup(t)
	phone := "+13125550220"
	if code, resp := env.PostForm(t, smsPath, apptest.Inbound("SMd000000000000000000000000000000001", phone, "Please stop texting me")); code != 200 {
		t.Fatalf("%d %s", code, resp)
	}
	entry := func(source, evidence string) map[string]any {
		return map[string]any{"phones": []string{phone}, "consent": []map[string]string{
			{"brand": "demo-air", "purpose": "marketing", "status": "opted_in", "source": source, "evidence": evidence}}}
	}
	for _, source := range []string{"api", "import", ""} {
		code, body := putContact(t, env, entry(source, "crm.csv row 4"))
		if code != http.StatusConflict || !strings.Contains(body, `"conflict"`) || !strings.Contains(body, "START") ||
			!strings.Contains(body, "consent[0]") {
			t.Errorf("source %q over a STOP: %d %s, want 409 conflict saying the customer must text START", source, code, body)
		}
	}
	if code, body := putContact(t, env, entry("web_form", "")); code != http.StatusBadRequest ||
		!strings.Contains(body, "invalid_field") || !strings.Contains(body, "consent[0].evidence") {
		t.Errorf("an opt-in without evidence: %d %s, want 400 invalid_field on consent[0].evidence", code, body)
	}
	want := []ledgerRow{{"conversational", "opted_out", "keyword"}, {"marketing", "opted_out", "keyword"}}
	if got := ledger(t, env, phone); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("refused opt-ins changed the ledger: %v", got)
	}
	if code, body := putContact(t, env, entry("web_form", "preferences page, checkbox ticked")); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("web form opt-in with evidence: %d %s", code, body)
	}
	if got := ledger(t, env, phone); len(got) != 3 || got[2] != (ledgerRow{"marketing", "opted_in", "web_form"}) {
		t.Fatalf("ledger after the web form opt-in: %v", got)
	}
}

// A text a sender claimed just before a STOP committed read consent as it
// was and may still be on its way to the carrier. The STOP is answered only
// once that text has left (so nothing reaches the carrier after the STOP's
// 200). A claim older than a carrier call can take (a dead worker's) is
// the reconciler's and holds nothing.
func TestStopAnswerWaitsForATextInFlight(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Inbound: inbound.Options{InFlightWait: time.Minute}})
	ctx := context.Background()
	phone := "+13125550177"
	q, err := env.Store.QueueOutbound(ctx, []store.OutboundRow{{BrandID: env.Brand.ID, From: apptest.BrandNumber, To: phone,
		Body: "Demo Air: our autumn fares are out", Purpose: "marketing", Origin: "api", Queue: "bulk", Segments: 1, Encoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := env.Store.ClaimForSend(ctx, q[0].ID); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	// Another text of the phone, claimed a minute ago by a worker since
	// killed: the reconciler's, not waited for.
	stale, err := env.Store.QueueOutbound(ctx, []store.OutboundRow{{BrandID: env.Brand.ID, From: apptest.BrandNumber, To: phone,
		Body: "Demo Air: your miles", Purpose: "marketing", Origin: "api", Queue: "bulk", Segments: 1, Encoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := env.Store.ClaimForSend(ctx, stale[0].ID); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if _, err := env.Store.Pool.Exec(ctx, `UPDATE messages SET sending_at = now() - interval '1 minute' WHERE id = $1`, stale[0].ID); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		_, err := env.Store.MarkSent(ctx, []store.Sent{{MessageID: q[0].ID, SID: "SM" + strings.Repeat("7", 32)}})
		sent <- err
	}()
	began := time.Now()
	if code, resp := env.PostForm(t, smsPath, apptest.Inbound("SM"+strings.Repeat("8", 32), phone, "STOP")); code != 200 {
		t.Fatalf("STOP: %d %s", code, resp)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Fatalf("the STOP's answer took %s: it waited for the stale claim (the wait is a minute)", took)
	}
	var status string
	if err := env.Store.Pool.QueryRow(ctx, `SELECT status FROM messages WHERE id = $1`, q[0].ID).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != "sent" {
		t.Fatalf("the STOP was answered while the text claimed before it was %s, want it sent first", status)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}
