package store_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// queueOne stores one queued outbound text and returns its id.
func (b *bundle) queueOne(t *testing.T, to string) int64 {
	t.Helper()
	rows, err := b.st.QueueOutbound(b.ctx, []store.OutboundRow{{BrandID: b.air.ID, From: "+15005550006", To: to,
		Body: "hello", Purpose: "conversational", Origin: "api", Queue: "proactive", Segments: 1, Encoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	return rows[0].ID
}

// stuck claims id and returns it as the reconciler reads it.
func (b *bundle) stuck(t *testing.T, id int64) store.Stuck {
	t.Helper()
	if won, err := b.st.MarkSending(b.ctx, id); err != nil || !won {
		t.Fatalf("claim %d: %v %v", id, won, err)
	}
	rows, err := b.st.StuckSending(b.ctx, store.StuckQuery{After: 0, Expired: time.Hour, Limit: 10, AfterID: id - 1})
	if err != nil || len(rows) == 0 || rows[0].ID != id {
		t.Fatalf("stuck sending: %+v %v", rows, err)
	}
	return rows[0]
}

func (b *bundle) status(t *testing.T, id int64) store.Message {
	t.Helper()
	m, err := b.st.MessageByID(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The reconciler read a sending message, then a status callback moved it
// before the reconciler wrote: none of its writes may undo the callback.
func TestReconcilerWritesYieldToACallback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.queueOne(t, "+12125550170")
	m := b.stuck(t, id)
	ranks := map[string]int{"queued": 1, "sending": 2, "unknown": 3, "sent": 4, "delivered": 5}
	if _, err := b.st.ApplyStatus(b.ctx, store.StatusUpdate{SID: "SM" + "c0ffee00000000000000000000000001", MessageID: id,
		Status: "delivered", Rank: 5}, ranks); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.st.RequeueIf(b.ctx, m.ID, m.SendingAt, "not_found_at_carrier"); err != nil || ok {
		t.Fatalf("requeue after the callback: %v %v, want no change", ok, err)
	}
	if ok, err := b.st.GiveUpIf(b.ctx, m.ID, m.SendingAt, "carrier_lookup_inconclusive"); err != nil || ok {
		t.Fatalf("give up after the callback: %v %v, want no change", ok, err)
	}
	if ok, _, err := b.st.ResolveSent(b.ctx, m.ID, m.SendingAt, "SM"+"0ther000000000000000000000000002"); err != nil || ok {
		t.Fatalf("resolve after the callback: %v %v, want no change", ok, err)
	}
	if got := b.status(t, id); got.Status != "delivered" || got.TwilioSID != "SMc0ffee00000000000000000000000001" {
		t.Fatalf("after the reconciler's writes: %s %s, want the callback's delivered and SID", got.Status, got.TwilioSID)
	}
}

// The reconciler read a claim; the message was then requeued and claimed
// again (a new sending_at). Writes for the old claim change nothing; the
// new claim can still be resolved.
func TestReconcilerWritesYieldToANewClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.queueOne(t, "+12125550171")
	old := b.stuck(t, id)
	if err := b.st.Requeue(b.ctx, id, 0, ""); err != nil {
		t.Fatal(err)
	}
	// Requeued, not yet claimed again: the old claim's writes do nothing.
	if ok, err := b.st.GiveUpIf(b.ctx, id, old.SendingAt, "carrier_lookup_inconclusive"); err != nil || ok {
		t.Fatalf("give up a requeued message: %v %v", ok, err)
	}
	if got := b.status(t, id); got.Status != "queued" {
		t.Fatalf("requeued message is %s", got.Status)
	}
	time.Sleep(2 * time.Millisecond) // a later now() for the new claim
	cur := b.stuck(t, id)
	if cur.SendingAt.Equal(old.SendingAt) {
		t.Fatal("the new claim has the old sending_at")
	}
	for name, write := range map[string]func() (bool, error){
		"requeue": func() (bool, error) { return b.st.RequeueIf(b.ctx, id, old.SendingAt, "not_found_at_carrier") },
		"give up": func() (bool, error) { return b.st.GiveUpIf(b.ctx, id, old.SendingAt, "carrier_lookup_inconclusive") },
		"resolve": func() (bool, error) {
			ok, _, err := b.st.ResolveSent(b.ctx, id, old.SendingAt, "SM00000000000000000000000000000003")
			return ok, err
		},
	} {
		if ok, err := write(); err != nil || ok {
			t.Fatalf("%s with the old claim's sending_at: %v %v, want no change", name, ok, err)
		}
	}
	if got := b.status(t, id); got.Status != "sending" || got.TwilioSID != "" {
		t.Fatalf("after writes for the old claim: %s %q", got.Status, got.TwilioSID)
	}
	ok, _, err := b.st.ResolveSent(b.ctx, id, cur.SendingAt, "SM00000000000000000000000000000004")
	if err != nil || !ok {
		t.Fatalf("resolve the current claim: %v %v", ok, err)
	}
	if got := b.status(t, id); got.Status != "sent" || got.TwilioSID != "SM00000000000000000000000000000004" {
		t.Fatalf("resolved: %s %q", got.Status, got.TwilioSID)
	}
}

// Cutoffs are on the database's clock: a fresh claim is not due a lookup
// unless its ambiguous outcome was recorded, and then only AmbiguousAfter
// later; an old one is, and says when it has expired.
func TestStuckSendingCutoffs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fresh := b.queueOne(t, "+12125550172")
	ambiguous := b.queueOne(t, "+12125550173")
	old := b.queueOne(t, "+12125550174")
	for _, id := range []int64{fresh, ambiguous, old} {
		b.stuck(t, id)
	}
	if err := b.st.MarkAmbiguous(b.ctx, ambiguous, 1, 502, "bad gateway"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE messages SET sending_at = now() - interval '25 hours' WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	ids := func(q store.StuckQuery) map[int64]bool {
		t.Helper()
		q.Limit = 10
		rows, err := b.st.StuckSending(b.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]bool{}
		for _, r := range rows {
			out[r.ID] = r.Expired
		}
		return out
	}
	got := ids(store.StuckQuery{After: time.Hour, AmbiguousAfter: 0, Expired: 24 * time.Hour})
	if len(got) != 2 || !got[old] {
		t.Fatalf("after 1 h, ambiguous after 0: %v, want the old one (expired) and the ambiguous one", got)
	}
	if _, ok := got[ambiguous]; !ok || got[ambiguous] {
		t.Fatalf("the ambiguous one: %v", got)
	}
	got = ids(store.StuckQuery{After: time.Hour, AmbiguousAfter: time.Hour, Expired: 24 * time.Hour})
	if len(got) != 1 || !got[old] {
		t.Fatalf("after 1 h, ambiguous after 1 h: %v, want only the old one", got)
	}
	// MarkAmbiguous names the claim by its attempt: a stale one changes nothing.
	if err := b.st.MarkAmbiguous(b.ctx, fresh, 7, 502, "stale"); err != nil {
		t.Fatal(err)
	}
	if got := ids(store.StuckQuery{After: time.Hour, AmbiguousAfter: 0, Expired: 24 * time.Hour}); len(got) != 2 {
		t.Fatalf("a stale MarkAmbiguous made %v due", got)
	}
}

// The relay's page of waiting rows says which are overdue on the database's
// clock and pages by id.
func TestWaitingOutboundOverdue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	due := b.queueOne(t, "+12125550175")
	recent := b.queueOne(t, "+12125550176")
	held := b.queueOne(t, "+12125550177")
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE messages SET created_at = now() - interval '2 minutes' WHERE id IN ($1, $2)`, due, held); err != nil {
		t.Fatal(err)
	}
	if err := b.st.Hold(b.ctx, held, time.Now().Add(time.Hour), "quiet_hours"); err != nil {
		t.Fatal(err)
	}
	rows, err := b.st.WaitingOutbound(b.ctx, time.Minute, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, w := range rows {
		got[w.ID] = w.Overdue
	}
	if len(got) != 3 || !got[due] || got[recent] || got[held] {
		t.Fatalf("overdue: %v; want only %d (the held one is due in an hour)", got, due)
	}
	page, err := b.st.WaitingOutbound(b.ctx, time.Minute, due, 1)
	if err != nil || len(page) != 1 || page[0].ID != recent {
		t.Fatalf("the page after %d: %+v %v", due, page, err)
	}
}
