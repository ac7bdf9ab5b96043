package webhook_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/apptest"
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
