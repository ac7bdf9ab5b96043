package webhook_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/apptest"
	ob "github.com/parleyhq/parley/internal/outbound"
)

const statusPath = "/webhooks/twilio/status"

func statusForm(sid, status, errCode string) url.Values {
	f := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {apptest.AccountSID}, "From": {apptest.BrandNumber}, "To": {"+17185550100"}, "ApiVersion": {"2010-04-01"}}
	if errCode != "" {
		f.Set("ErrorCode", errCode)
		f.Set("ErrorMessage", "Unknown destination handset")
	}
	return f
}

// queuedReply makes an outbound message by texting HELP, returns its id.
func queuedReply(t *testing.T, env *apptest.Env, phone string) int64 {
	t.Helper()
	env.PostForm(t, smsPath, apptest.Inbound("SMb"+strings.Repeat("0", 28)+phone[len(phone)-4:], phone, "HELP"))
	out := outbound(t, env, phone)
	if len(out) != 1 {
		t.Fatalf("want one queued reply, got %d", len(out))
	}
	return out[0].ID
}

func status(t *testing.T, env *apptest.Env, id int64) (string, string, int) {
	t.Helper()
	m, err := env.Store.MessageByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Status, m.TwilioSID, m.ErrorCode
}

// Callbacks only move a status forward, whatever order they arrive in.
func TestStatusOnlyMovesForward(t *testing.T) {
	env := setup(t)
	id := queuedReply(t, env, "+17185550100")
	sid := "SMc0000000000000000000000000000001"
	path := fmt.Sprintf("%s?m=%d", statusPath, id)
	steps := []struct{ status, want string }{
		{"sent", "sent"},   // arrives before the create call returned: found by ?m=
		{"queued", "sent"}, // late, out of order: ignored
		{"delivered", "delivered"},
		{"sent", "delivered"},
		{"sending", "delivered"},
	}
	for _, s := range steps {
		if code, body := env.PostForm(t, path, statusForm(sid, s.status, "")); code != 200 {
			t.Fatalf("%s: %d %s", s.status, code, body)
		}
		if got, gotSID, _ := status(t, env, id); got != s.want || gotSID != sid {
			t.Fatalf("after %s: status %s sid %q, want %s %s", s.status, got, gotSID, s.want, sid)
		}
	}
}

func TestStatusRecordsErrorCode(t *testing.T) {
	env := setup(t)
	id := queuedReply(t, env, "+17185550101")
	sid := "SMc0000000000000000000000000000002"
	env.PostForm(t, fmt.Sprintf("%s?m=%d", statusPath, id), statusForm(sid, "undelivered", "30005"))
	if st, _, code := status(t, env, id); st != "undelivered" || code != 30005 {
		t.Fatalf("status %s code %d, want undelivered 30005", st, code)
	}
}

// A callback for a SID Parley does not know yet (no ?m=) is kept and applied
// once the sender records that SID.
func TestStatusForUnknownSIDIsKept(t *testing.T) {
	env := setup(t)
	id := queuedReply(t, env, "+17185550102")
	sid := "SMc0000000000000000000000000000003"
	for _, s := range []string{"sent", "delivered"} {
		if code, body := env.PostForm(t, statusPath, statusForm(sid, s, "")); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	}
	if st, _, _ := status(t, env, id); st != "queued" {
		t.Fatalf("status %s before the SID is known, want queued", st)
	}
	if err := env.App.Statuses.RecordSID(context.Background(), id, sid); err != nil {
		t.Fatal(err)
	}
	if st, got, _ := status(t, env, id); st != "delivered" || got != sid {
		t.Fatalf("status %s sid %s after the SID appeared, want delivered", st, got)
	}
	if n := env.Count(t, `SELECT count(*) FROM pending_statuses`); n != 0 {
		t.Fatalf("%d pending statuses left", n)
	}
}

// A callback that arrived before the message knew its SID (no ?m=) is applied
// by the callback that brings our id and the SID, in the same transaction, and
// nothing is left pending.
func TestPendingStatusAppliedWhenIDBringsSID(t *testing.T) {
	env := setup(t)
	id := queuedReply(t, env, "+17185550103")
	sid := "SMc0000000000000000000000000000004"
	if code, body := env.PostForm(t, statusPath, statusForm(sid, "delivered", "")); code != 200 {
		t.Fatalf("delivered: %d %s", code, body)
	}
	if n := env.Count(t, `SELECT count(*) FROM pending_statuses`); n != 1 {
		t.Fatalf("%d pending statuses, want the delivered kept", n)
	}
	if code, body := env.PostForm(t, fmt.Sprintf("%s?m=%d", statusPath, id), statusForm(sid, "sent", "")); code != 200 {
		t.Fatalf("sent: %d %s", code, body)
	}
	if st, got, _ := status(t, env, id); st != "delivered" || got != sid {
		t.Fatalf("status %s sid %q, want delivered %s", st, got, sid)
	}
	if n := env.Count(t, `SELECT count(*) FROM pending_statuses`); n != 0 {
		t.Fatalf("%d pending statuses left", n)
	}
}

// A status callback never touches an inbound message, by its SID or by ?m=.
func TestStatusNeverTouchesInbound(t *testing.T) {
	env := setup(t)
	phone := "+17185550104"
	inSID := "SMe0000000000000000000000000000001"
	env.PostForm(t, smsPath, apptest.Inbound(inSID, phone, "hello"))
	var inID int64
	if err := env.Store.Pool.QueryRow(context.Background(), `SELECT id FROM messages WHERE twilio_sid = $1`, inSID).Scan(&inID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{statusPath, fmt.Sprintf("%s?m=%d", statusPath, inID)} {
		for _, sid := range []string{inSID, "SMe0000000000000000000000000000002"} {
			if sid != inSID && path == statusPath {
				continue // an unknown SID with no id is kept for later, rightly
			}
			if code, body := env.PostForm(t, path, statusForm(sid, "failed", "30005")); code != 200 {
				t.Fatalf("%s %s: %d %s", path, sid, code, body)
			}
			if st, got, code := status(t, env, inID); st != "received" || got != inSID || code != 0 {
				t.Fatalf("callback %s to %s changed the inbound message: %s %s %d", sid, path, st, got, code)
			}
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM pending_statuses WHERE twilio_sid = $1`, inSID); n != 0 {
		t.Fatalf("a callback for an inbound SID was kept: %d rows", n)
	}
}

// Every status Twilio documents is accepted, the outbound ones applied in
// order; receiving and received never move an outbound message.
func TestStatusAllTwilioStatuses(t *testing.T) {
	env := setup(t)
	id := queuedReply(t, env, "+17185550105")
	sid := "SMc0000000000000000000000000000005"
	path := fmt.Sprintf("%s?m=%d", statusPath, id)
	for _, s := range []struct{ status, want string }{
		{"sent", "sent"}, {"receiving", "sent"}, {"received", "sent"}, {"partially_delivered", "partially_delivered"},
		{"delivered", "partially_delivered"}, {"read", "read"},
	} {
		if code, body := env.PostForm(t, path, statusForm(sid, s.status, "")); code != 200 {
			t.Fatalf("%s: %d %s", s.status, code, body)
		}
		if got, _, _ := status(t, env, id); got != s.want {
			t.Fatalf("after %s: %s, want %s", s.status, got, s.want)
		}
	}
}

// A callback kept for an unknown SID racing the one that brings the SID (or
// the sender recording it) is never stranded in pending_statuses.
func TestPendingStatusNeverStranded(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	const n = 12
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = queuedReply(t, env, fmt.Sprintf("+1718555%04d", 300+i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i, id := range ids {
		sid := fmt.Sprintf("SMf%031d", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := env.App.Statuses.Apply(ctx, ob.Callback{SID: sid, Status: "delivered"})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				errs <- env.App.Statuses.RecordSID(ctx, id, sid)
				return
			}
			_, err := env.App.Statuses.Apply(ctx, ob.Callback{SID: sid, MessageID: id, Status: "sent"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		if st, sid, _ := status(t, env, id); st != "delivered" || sid != fmt.Sprintf("SMf%031d", i) {
			t.Errorf("message %d: %s %s, want delivered", id, st, sid)
		}
	}
	if left := env.Count(t, `SELECT count(*) FROM pending_statuses`); left != 0 {
		t.Fatalf("%d pending statuses stranded", left)
	}
}

func TestStatusBadInput(t *testing.T) {
	env := setup(t)
	tests := []struct {
		name, path string
		form       url.Values
		sig        bool
		want       int
		mention    string
	}{
		{"unsigned", statusPath, statusForm("SM1", "sent", ""), false, 403, "invalid_signature"},
		{"no sid", statusPath, url.Values{"MessageStatus": {"sent"}}, true, 400, "MessageSid"},
		{"no status", statusPath, url.Values{"MessageSid": {"SM1"}}, true, 400, "MessageStatus"},
		{"unknown status", statusPath, statusForm("SM1", "teleported", ""), true, 400, "MessageStatus"},
		{"bad error code", statusPath, statusForm("SM1", "failed", "abc"), true, 400, "ErrorCode"},
		{"bad m", statusPath + "?m=x", statusForm("SM1", "sent", ""), true, 400, "m="},
	}
	for _, tt := range tests {
		sig := ""
		if tt.sig {
			sig = env.Sign(tt.path, tt.form)
		}
		code, body := env.PostRaw(t, tt.path, tt.form.Encode(), sig)
		if code != tt.want || !strings.Contains(body, tt.mention) {
			t.Errorf("%s: %d %s, want %d mentioning %q", tt.name, code, body, tt.want, tt.mention)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM pending_statuses`); n != 0 {
		t.Fatalf("bad callbacks stored %d rows", n)
	}
}
