package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

type bundle struct {
	ctx    context.Context
	st     *store.Store
	air    store.Brand // number +15005550006
	hotel  store.Brand // number +15005550007
	nextID int
}

func setup(t *testing.T) *bundle {
	t.Helper()
	st, _ := storetest.New(t)
	ctx := context.Background()
	air, err := st.UpsertBrand(ctx, store.BrandInput{Slug: "demoair", Name: "DemoAir", Numbers: []store.BrandNumber{{Number: "+15005550006", MPS: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	hotel, err := st.UpsertBrand(ctx, store.BrandInput{Slug: "demohotel", Name: "DemoHotel", Numbers: []store.BrandNumber{{Number: "+15005550007", MPS: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{ctx: ctx, st: st, air: air, hotel: hotel}
}

// text stores an inbound text from phone to brand b at the given time and
// returns what receive_inbound did.
func (b *bundle) text(t *testing.T, brand store.Brand, from, body string, at time.Time, media ...store.Media) store.InboundResult {
	t.Helper()
	b.nextID++
	res, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{
		SID: fmt.Sprintf("SM%032d", b.nextID), BrandID: brand.ID, From: from, To: brand.Numbers[0].Number,
		Body: body, Media: media, ReceivedAt: at, Segments: 1, Encoding: "GSM-7",
	}})
	if err != nil {
		t.Fatalf("receive inbound: %v", err)
	}
	return res[0]
}

func (b *bundle) upsert(t *testing.T, in store.ContactUpsert) store.UpsertResult {
	t.Helper()
	res, err := b.st.UpsertContact(b.ctx, in)
	if err != nil {
		t.Fatalf("upsert %+v: %v", in, err)
	}
	return res
}

func (b *bundle) conversation(t *testing.T, id int64) store.Conversation {
	t.Helper()
	c, err := b.st.ConversationByID(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (b *bundle) contact(t *testing.T, id int64) store.Contact {
	t.Helper()
	c, err := b.st.ContactByID(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (b *bundle) messageIDs(t *testing.T, convID int64) []int64 {
	t.Helper()
	msgs, err := b.st.ConversationMessages(b.ctx, convID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}

var t0 = time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC)

func TestUpsertContactCreatesThenUpdates(t *testing.T) {
	t.Parallel()
	b := setup(t)

	res := b.upsert(t, store.ContactUpsert{Phones: []string{"+12125550101"}, Name: "Ada",
		SetAttributes: map[string]any{"tier": "gold", "points": 10}, Timezone: "America/New_York"})
	if !res.Created {
		t.Fatal("first upsert did not create")
	}
	c := res.Contact
	if c.LoyaltyID != "" || c.Name != "Ada" || c.Timezone != "America/New_York" || !slices.Equal(c.Phones, []string{"+12125550101"}) {
		t.Fatalf("created %+v", c)
	}

	res = b.upsert(t, store.ContactUpsert{Phones: []string{"+12125550101", "+12125550102"},
		SetAttributes: map[string]any{"points": 20}, DropAttributes: []string{"tier"}})
	if res.Created || res.Contact.ID != c.ID {
		t.Fatalf("second upsert: created=%v id=%d, want update of %d", res.Created, res.Contact.ID, c.ID)
	}
	got := res.Contact
	if got.Name != "Ada" || got.Timezone != "America/New_York" {
		t.Errorf("empty name/timezone must keep the stored ones, got %q %q", got.Name, got.Timezone)
	}
	if _, ok := got.Attributes["tier"]; ok || fmt.Sprint(got.Attributes["points"]) != "20" {
		t.Errorf("attributes = %v, want points 20 and no tier", got.Attributes)
	}
	if !slices.Equal(got.Phones, []string{"+12125550101", "+12125550102"}) {
		t.Errorf("phones = %v", got.Phones)
	}
}

func TestUpsertContactByLoyaltyAdoptsPhoneContact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.text(t, b.air, "+12125550111", "hi", t0)

	res := b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-1", Phones: []string{"+12125550111"}})
	if res.Created || res.Contact.ID != in.ContactID || res.Contact.LoyaltyID != "FF-1" {
		t.Fatalf("want contact %d to adopt FF-1, got created=%v %+v", in.ContactID, res.Created, res.Contact)
	}
	if len(res.Absorbed) != 0 {
		t.Fatalf("adoption is not a merge, absorbed %v", res.Absorbed)
	}
	// Loyalty-only upsert now finds it.
	res = b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-1", Name: "Grace"})
	if res.Created || res.Contact.ID != in.ContactID || res.Contact.Name != "Grace" {
		t.Fatalf("loyalty upsert: %+v created=%v", res.Contact, res.Created)
	}
}

func TestUpsertContactMergesConversations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phoneA, phoneB = "+12125550121", "+12125550122"

	// A texts the airline; B texts the airline (later) and the hotel, and opts out.
	a1 := b.text(t, b.air, phoneA, "first from A", t0)
	b1 := b.text(t, b.air, phoneB, "first from B", t0.Add(time.Minute), store.Media{URL: "https://x/1.jpg", ContentType: "image/jpeg"})
	a2 := b.text(t, b.air, phoneA, "second from A", t0.Add(2*time.Minute))
	b2 := b.text(t, b.hotel, phoneB, "hotel from B", t0.Add(3*time.Minute))
	if err := b.st.AppendConsent(b.ctx, []store.ConsentEvent{
		{BrandID: b.air.ID, Phone: phoneB, Purpose: "marketing", Status: "opted_in", Source: "web_form", Evidence: "form"},
	}); err != nil {
		t.Fatal(err)
	}
	// B also has attributes of its own, one of them clashing.
	b.upsert(t, store.ContactUpsert{Phones: []string{phoneB}, Name: "B name", Timezone: "Europe/Paris",
		SetAttributes: map[string]any{"tier": "silver", "seat": "aisle"}})
	b.upsert(t, store.ContactUpsert{Phones: []string{phoneA}, SetAttributes: map[string]any{"tier": "gold"}})

	res := b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-2", Phones: []string{phoneA, phoneB}})
	survivor := res.Contact
	if res.Created || survivor.ID != a1.ContactID {
		t.Fatalf("survivor %d created=%v, want A's contact %d", survivor.ID, res.Created, a1.ContactID)
	}
	if !slices.Equal(res.Absorbed, []int64{b1.ContactID}) {
		t.Fatalf("absorbed %v, want [%d]", res.Absorbed, b1.ContactID)
	}
	if !slices.Equal(survivor.Phones, []string{phoneA, phoneB}) || survivor.LoyaltyID != "FF-2" {
		t.Fatalf("survivor %+v", survivor)
	}
	if survivor.Attributes["tier"] != "gold" || survivor.Attributes["seat"] != "aisle" {
		t.Errorf("attributes %v: survivor's keys must win, absorbed must fill", survivor.Attributes)
	}
	if survivor.Name != "B name" || survivor.Timezone != "Europe/Paris" {
		t.Errorf("name/timezone %q %q: the survivor had none, so the absorbed's are kept", survivor.Name, survivor.Timezone)
	}

	// The absorbed contact keeps its row, points at the survivor and is never listed.
	absorbed := b.contact(t, b1.ContactID)
	if absorbed.MergedInto != survivor.ID || len(absorbed.Phones) != 0 {
		t.Fatalf("absorbed %+v", absorbed)
	}
	for _, q := range []store.ContactQuery{{Phone: phoneB}, {Phone: phoneA}, {LoyaltyID: "FF-2"}} {
		cs, err := b.st.Contacts(b.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].ID != survivor.ID {
			t.Errorf("Contacts(%+v) = %v, want only the survivor", q, cs)
		}
	}

	// Same brand: B's airline conversation folded into A's, every message reachable.
	airConv := b.conversation(t, a1.ConversationID)
	if airConv.MergedInto != 0 || airConv.ContactID != survivor.ID {
		t.Fatalf("survivor's airline conversation %+v", airConv)
	}
	if got, want := b.messageIDs(t, airConv.ID), []int64{a1.MessageID, b1.MessageID, a2.MessageID}; !slices.Equal(got, want) {
		t.Errorf("airline thread %v, want %v (oldest first)", got, want)
	}
	old := b.conversation(t, b1.ConversationID)
	if old.MergedInto != airConv.ID {
		t.Errorf("B's airline conversation merged_into %d, want %d", old.MergedInto, airConv.ID)
	}
	if len(b.messageIDs(t, old.ID)) != 0 {
		t.Error("messages left behind in the absorbed conversation")
	}
	if !airConv.LastMessageAt.Equal(t0.Add(2*time.Minute)) || airConv.LastPhone != phoneA {
		t.Errorf("last_message_at %v last_phone %s, want the most recent (A at +2m)", airConv.LastMessageAt, airConv.LastPhone)
	}
	live, err := b.st.LiveConversation(b.ctx, old.ID)
	if err != nil || live.ID != airConv.ID {
		t.Errorf("LiveConversation(%d) = %d, %v; want %d", old.ID, live.ID, err, airConv.ID)
	}

	// Other brand: B's hotel conversation simply moved to the survivor.
	hotelConv := b.conversation(t, b2.ConversationID)
	if hotelConv.ContactID != survivor.ID || hotelConv.MergedInto != 0 {
		t.Errorf("hotel conversation %+v, want it re-pointed to %d", hotelConv, survivor.ID)
	}
	if got := b.messageIDs(t, hotelConv.ID); !slices.Equal(got, []int64{b2.MessageID}) {
		t.Errorf("hotel thread %v", got)
	}

	// The merge is recorded with what moved.
	ms, err := b.st.ContactMerges(b.ctx, survivor.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("merges %+v", ms)
	}
	m := ms[0]
	if m.SurvivorID != survivor.ID || m.AbsorbedID != b1.ContactID || m.Reason != store.MergeLoyaltyLinked {
		t.Errorf("merge row %+v", m)
	}
	if !slices.Equal(m.Detail.PhonesMoved, []string{phoneB}) || !slices.Equal(m.Detail.ConversationsMoved, []int64{hotelConv.ID}) ||
		len(m.Detail.ConversationsMerged) != 1 {
		t.Fatalf("merge detail %+v", m.Detail)
	}
	if cm := m.Detail.ConversationsMerged[0]; cm.From != old.ID || cm.Into != airConv.ID || cm.BrandID != b.air.ID ||
		cm.MessagesMoved != 1 || len(cm.MessageIDs) != 1 || cm.IntoLastID < cm.MessageIDs[0] {
		t.Errorf("merge detail %+v", m.Detail)
	}

	// Consent is per (brand, phone): B's history is still found through the survivor's phone.
	evs, err := b.st.ConsentEvents(b.ctx, b.air.ID, survivor.Phones[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Status != "opted_in" || evs[0].Phone != phoneB {
		t.Errorf("consent of %s after merge: %+v", phoneB, evs)
	}

	// A later text from B lands in the survivor's thread, not in a new contact.
	b3 := b.text(t, b.air, phoneB, "after the merge", t0.Add(time.Hour))
	if b3.ContactID != survivor.ID || b3.ConversationID != airConv.ID {
		t.Errorf("text after merge went to contact %d conversation %d", b3.ContactID, b3.ConversationID)
	}
}

func TestUpsertContactWithoutLoyaltyTakesAbsorbedLoyaltyID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.upsert(t, store.ContactUpsert{Phones: []string{"+12125550131"}})
	member := b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-3", Phones: []string{"+12125550132"}})

	res := b.upsert(t, store.ContactUpsert{Phones: []string{"+12125550131", "+12125550132"}})
	if res.Contact.ID != first.Contact.ID || res.Contact.LoyaltyID != "FF-3" {
		t.Fatalf("survivor %+v, want contact %d carrying FF-3", res.Contact, first.Contact.ID)
	}
	ms, err := b.st.ContactMerges(b.ctx, member.Contact.ID)
	if err != nil || len(ms) != 1 || ms[0].Reason != store.MergePhonesLinked {
		t.Fatalf("merges %+v %v", ms, err)
	}
	cs, err := b.st.Contacts(b.ctx, store.ContactQuery{LoyaltyID: "FF-3"})
	if err != nil || len(cs) != 1 || cs[0].ID != first.Contact.ID {
		t.Fatalf("FF-3 lookup %v %v", cs, err)
	}
}

func TestUpsertContactRecycledPhoneMovesAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const shared, other = "+12125550141", "+12125550142"

	old := b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-OLD", Phones: []string{shared}}).Contact
	oldText := b.text(t, b.air, shared, "old owner", t0)
	mover := b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-MOVE", Phones: []string{other}}).Contact
	moverText := b.text(t, b.hotel, other, "mover", t0)
	_ = moverText

	res := b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-NEW", Phones: []string{shared}})
	if !res.Created || !slices.Equal(res.Reassigned, []string{shared}) || len(res.Absorbed) != 0 {
		t.Fatalf("result %+v", res)
	}
	newC := res.Contact
	if !slices.Equal(newC.Phones, []string{shared}) || newC.LoyaltyID != "FF-NEW" {
		t.Fatalf("new member %+v", newC)
	}
	o := b.contact(t, old.ID)
	if o.MergedInto != 0 || len(o.Phones) != 0 || o.LoyaltyID != "FF-OLD" {
		t.Fatalf("old member %+v: must stay live with its loyalty ID, phone gone", o)
	}
	// The old member's history stays with it, flagged: it has no phone to answer to.
	conv := b.conversation(t, oldText.ConversationID)
	if conv.ContactID != old.ID || conv.NeedsAttention == "" {
		t.Errorf("old member's conversation %+v", conv)
	}
	ms, err := b.st.ContactMerges(b.ctx, newC.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("merges %+v %v", ms, err)
	}
	if ms[0].Reason != store.PhoneReassigned || ms[0].AbsorbedID != old.ID || ms[0].Detail.Phone != shared ||
		!slices.Equal(ms[0].Detail.ConversationsFlagged, []int64{conv.ID}) {
		t.Errorf("record %+v", ms[0])
	}
	// A new text from the number goes to the new member.
	next := b.text(t, b.air, shared, "new owner", t0.Add(time.Hour))
	if next.ContactID != newC.ID || next.ConversationID == conv.ID {
		t.Errorf("text after reassignment: contact %d conversation %d", next.ContactID, next.ConversationID)
	}

	// A member with another phone keeps answering to it.
	b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-MOVE", Phones: []string{other, "+12125550143"}})
	b.text(t, b.hotel, other, "latest from mover", t0.Add(2*time.Hour))
	b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-NEW", Phones: []string{other}})
	moverConv := b.conversation(t, moverText.ConversationID)
	if moverConv.ContactID != mover.ID || moverConv.LastPhone != "+12125550143" || moverConv.NeedsAttention != "" {
		t.Errorf("mover's conversation %+v: must answer to its remaining phone", moverConv)
	}
}

func TestUpsertContactConsentForPhones(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-4", Phones: []string{"+12125550151", "+12125550152"}})
	// No phones listed: every phone of the contact gets the entry.
	b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-4", Consent: []store.ConsentChange{
		{BrandID: b.air.ID, Purpose: "marketing", Status: "opted_in", Source: "import", Evidence: "crm.csv"}}})
	for _, p := range res.Contact.Phones {
		evs, err := b.st.ConsentEvents(b.ctx, b.air.ID, p)
		if err != nil || len(evs) != 1 || evs[0].Source != "import" || evs[0].Evidence != "crm.csv" {
			t.Errorf("consent of %s: %+v %v", p, evs, err)
		}
	}
	// A contact without phones cannot take consent, and nothing is written.
	_, err := b.st.UpsertContact(b.ctx, store.ContactUpsert{LoyaltyID: "FF-NOPHONE", Name: "x", Consent: []store.ConsentChange{
		{BrandID: b.air.ID, Purpose: "marketing", Status: "opted_in", Source: "api"}}})
	if err == nil || !errors.Is(err, store.ErrNoPhones) {
		t.Fatalf("err = %v, want ErrNoPhones", err)
	}
	if cs, _ := b.st.Contacts(b.ctx, store.ContactQuery{LoyaltyID: "FF-NOPHONE"}); len(cs) != 0 {
		t.Errorf("the failed upsert left a contact: %+v", cs)
	}
}

// TestUpsertContactWaitsForInboundLock holds the per-phone lock the inbound
// pipeline takes and checks that a merge touching that phone waits for it.
func TestUpsertContactWaitsForInboundLock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phoneA, phoneB = "+12125550161", "+12125550162"
	b.text(t, b.air, phoneA, "a", t0)
	b.text(t, b.air, phoneB, "b", t0)

	tx, err := b.st.Pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx) //nolint:errcheck
	if _, err := tx.Exec(b.ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, phoneB); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.st.UpsertContact(b.ctx, store.ContactUpsert{Phones: []string{phoneA, phoneB}})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("upsert finished (%v) while the phone lock was held", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Rollback(b.ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("upsert did not finish after the lock was released")
	}
}

// TestUpsertContactConcurrentWithInbound runs merges and first texts from the
// same phones at once: whatever the interleaving, every phone must end with
// the one surviving contact and every message in its single conversation.
func TestUpsertContactConcurrentWithInbound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	phones := []string{"+12125550171", "+12125550172", "+12125550173", "+12125550174"}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	var sidMu sync.Mutex
	sid := 0
	for round := 0; round < 5; round++ {
		for _, p := range phones {
			wg.Add(1)
			go func(p string) {
				defer wg.Done()
				sidMu.Lock()
				sid++
				n := sid
				sidMu.Unlock()
				_, err := b.st.ReceiveInbound(b.ctx, []store.InboundRow{{SID: fmt.Sprintf("SMC%031d", n), BrandID: b.air.ID,
					From: p, To: "+15005550006", Body: "hi", ReceivedAt: t0.Add(time.Duration(n) * time.Second), Segments: 1, Encoding: "GSM-7"}})
				if err != nil {
					errs <- err
				}
			}(p)
		}
		wg.Add(1)
		go func(round int) {
			defer wg.Done()
			ps := slices.Clone(phones)
			slices.Reverse(ps[:round%len(ps)+1])
			if _, err := b.st.UpsertContact(b.ctx, store.ContactUpsert{LoyaltyID: "FF-RACE", Phones: ps}); err != nil {
				errs <- err
			}
		}(round)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// One last upsert so that a text that created a fresh contact after the
	// final merge is folded in too.
	res := b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-RACE", Phones: phones})
	if !slices.Equal(res.Contact.Phones, phones) {
		t.Fatalf("survivor phones %v", res.Contact.Phones)
	}
	convs, err := b.st.Conversations(b.ctx, store.ConversationQuery{ContactID: res.Contact.ID, Limit: 10})
	if err != nil || len(convs) != 1 {
		t.Fatalf("survivor's live conversations %+v %v", convs, err)
	}
	var live, total int
	if err := b.st.Pool.QueryRow(b.ctx, `SELECT count(*) FILTER (WHERE merged_into IS NULL) FROM contacts`).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if err := b.st.Pool.QueryRow(b.ctx, `SELECT count(*) FROM messages`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if live != 1 {
		t.Errorf("%d live contacts, want 1", live)
	}
	if got := len(b.messageIDs(t, convs[0].ID)); got != total || total != 20 {
		t.Errorf("survivor thread has %d of %d messages, want all 20", got, total)
	}
}

// TestUpsertContactRelocksPhonesAddedMeanwhile: a contact gains a phone while
// an upsert waits for its locks. The upsert must notice, start over and lock
// the new phone as well, rather than touch it unlocked.
func TestUpsertContactRelocksPhonesAddedMeanwhile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phoneA, phoneX = "+12125550181", "+12125550182"
	c := b.text(t, b.air, phoneA, "a", t0)

	lock := func(phone string) pgx.Tx {
		tx, err := b.st.Pool.Begin(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		if _, err := tx.Exec(b.ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, phone); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	waiting := func() int {
		var n int
		if err := b.st.Pool.QueryRow(b.ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	holdA := lock(phoneA)
	done := make(chan error, 1)
	go func() {
		_, err := b.st.UpsertContact(b.ctx, store.ContactUpsert{Phones: []string{phoneA}, Name: "A"})
		done <- err
	}()
	waitFor("the upsert to wait for A's lock", func() bool { return waiting() == 1 })

	holdX := lock(phoneX)
	if _, err := holdA.Exec(b.ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2)`, phoneX, c.ContactID); err != nil {
		t.Fatal(err)
	}
	if err := holdA.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
	// Now the upsert holds A, sees X, starts over and must wait for X.
	waitFor("the upsert to wait for the lock of X, added meanwhile", func() bool { return waiting() == 1 })
	select {
	case err := <-done:
		t.Fatalf("upsert finished (%v) without taking the lock of the phone added meanwhile", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := holdX.Rollback(b.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := b.contact(t, c.ContactID); got.Name != "A" || !slices.Equal(got.Phones, []string{phoneA, phoneX}) {
		t.Errorf("contact %+v", got)
	}
}

// A reassigned number does not carry its previous owner's marketing opt-in.
func TestRecycledPhoneLosesMarketingOptIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const phone = "+12125550151"
	b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-A", Phones: []string{phone}, Consent: []store.ConsentChange{
		{BrandID: b.air.ID, Purpose: "marketing", Status: "opted_in", Source: "web_form", Evidence: "signup form"},
		{BrandID: b.hotel.ID, Purpose: "marketing", Status: "opted_out", Source: "keyword", Evidence: "STOP"},
	}})
	b.upsert(t, store.ContactUpsert{LoyaltyID: "FF-B", Phones: []string{phone}})
	for _, tt := range []struct {
		brand store.Brand
		want  string
		n     int
	}{{b.air, "opted_out", 2}, {b.hotel, "opted_out", 1}} {
		st, _, err := b.st.LatestConsentStatus(b.ctx, tt.brand.ID, phone, "marketing")
		if err != nil || st != tt.want {
			t.Fatalf("brand %s: marketing %q %v, want %s", tt.brand.Slug, st, err, tt.want)
		}
		evs, err := b.st.ConsentEvents(b.ctx, tt.brand.ID, phone)
		if err != nil || len(evs) != tt.n {
			t.Fatalf("brand %s: %d ledger rows, want %d (no redundant opt-out)", tt.brand.Slug, len(evs), tt.n)
		}
	}
}
