package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// unmergeWorld: customer A (no loyalty ID, attribute seat) texts the airline
// and the hotel from phoneA; member M (loyalty L-1, name Maria) texts the
// airline from phoneM. An agent links A to L-1 in the console: A is merged
// into M, A's airline conversation folded into M's, the hotel one moved.
type unmergeWorld struct {
	b                  *bundle
	agent, admin       int64
	a, m               int64 // contacts
	aAir, aHotel, mAir int64 // conversations
	aMsgs, mMsgs       []int64
	note               int64
	merge              store.ContactMerge
}

const (
	phoneA = "+15551230001"
	phoneM = "+15551230002"
)

func newUnmergeWorld(t *testing.T) *unmergeWorld {
	t.Helper()
	b := setup(t)
	w := &unmergeWorld{b: b}
	for _, u := range []struct {
		email, role string
		id          *int64
	}{{"agent@example.com", "agent", &w.agent}, {"admin@example.com", "admin", &w.admin}} {
		user, err := b.st.UpsertUser(b.ctx, u.email, "x", u.role)
		if err != nil {
			t.Fatal(err)
		}
		*u.id = user.ID
	}
	ra := b.text(t, b.air, phoneA, "my bag is lost", t0)
	rh := b.text(t, b.hotel, phoneA, "late check-out?", t0.Add(time.Minute))
	rm := b.text(t, b.air, phoneM, "hello from Maria", t0.Add(2*time.Minute))
	w.a, w.m = ra.ContactID, rm.ContactID
	w.aAir, w.aHotel, w.mAir = ra.ConversationID, rh.ConversationID, rm.ConversationID
	b.upsert(t, store.ContactUpsert{Phones: []string{phoneA}, SetAttributes: map[string]any{"seat": "aisle"}})
	b.upsert(t, store.ContactUpsert{LoyaltyID: "L-1", Phones: []string{phoneM}, Name: "Maria"})
	n, err := b.st.AddNote(b.ctx, w.aAir, w.agent, "called about the bag")
	if err != nil {
		t.Fatal(err)
	}
	w.note = n.ID
	w.aMsgs, w.mMsgs = b.messageIDs(t, w.aAir), b.messageIDs(t, w.mAir)

	res := b.upsert(t, store.ContactUpsert{LoyaltyID: "L-1", Phones: []string{phoneA}, MadeBy: w.agent})
	if res.Contact.ID != w.m || !slices.Equal(res.Absorbed, []int64{w.a}) {
		t.Fatalf("link: %+v", res)
	}
	w.merge = w.lastMerge(t)
	return w
}

func (w *unmergeWorld) lastMerge(t *testing.T) store.ContactMerge {
	t.Helper()
	ms, err := w.b.st.ContactMerges(w.b.ctx, w.m)
	if err != nil {
		t.Fatal(err)
	}
	return ms[len(ms)-1]
}

func (w *unmergeWorld) undo(t *testing.T, id int64, now time.Time) (store.UndoneMerge, string) {
	t.Helper()
	res, err := w.b.st.UndoMerge(w.b.ctx, id, w.admin, now)
	var refused *store.UndoRefusedError
	if errors.As(err, &refused) {
		return res, refused.Reason
	}
	if err != nil {
		t.Fatal(err)
	}
	return res, ""
}

func TestUndoConsoleMergePutsPhonesAndConversationsBack(t *testing.T) {
	t.Parallel()
	w := newUnmergeWorld(t)
	b := w.b
	if !w.merge.ByPerson || w.merge.MadeBy != w.agent || w.merge.AbsorbedID != w.a {
		t.Fatalf("merge row %+v", w.merge)
	}
	// After the merge both phones text the airline: both land in M's conversation.
	late := b.text(t, b.air, phoneA, "still no bag", time.Now())
	b.text(t, b.air, phoneM, "Maria again", time.Now())
	if late.ConversationID != w.mAir {
		t.Fatalf("a text after the merge went to %d, want the survivor's %d", late.ConversationID, w.mAir)
	}

	res, refused := w.undo(t, w.merge.ID, time.Now())
	if refused != "" {
		t.Fatalf("undo refused: %s", refused)
	}
	if !slices.Equal(res.Conversations, []int64{w.aAir, w.aHotel, w.mAir}) {
		t.Errorf("conversations touched %v", res.Conversations)
	}

	a, m := b.contact(t, w.a), b.contact(t, w.m)
	if a.MergedInto != 0 || !slices.Equal(a.Phones, []string{phoneA}) || a.LoyaltyID != "" || a.Attributes["seat"] != "aisle" {
		t.Errorf("customer A after undo: %+v", a)
	}
	if m.MergedInto != 0 || !slices.Equal(m.Phones, []string{phoneM}) || m.LoyaltyID != "L-1" || m.Name != "Maria" || m.Attributes["seat"] != nil {
		t.Errorf("member M after undo: %+v", m)
	}
	aAir, aHotel, mAir := b.conversation(t, w.aAir), b.conversation(t, w.aHotel), b.conversation(t, w.mAir)
	if aAir.MergedInto != 0 || aAir.ContactID != w.a || aAir.LastPhone != phoneA {
		t.Errorf("A's airline conversation: %+v", aAir)
	}
	if aHotel.ContactID != w.a {
		t.Errorf("A's hotel conversation still belongs to %d", aHotel.ContactID)
	}
	if mAir.LastPhone != phoneM {
		t.Errorf("M's conversation answers to %s", mAir.LastPhone)
	}
	// A's messages went back, with the text A sent after the merge; M kept its own.
	wantA := append(slices.Clone(w.aMsgs), late.MessageID)
	if got := b.messageIDs(t, w.aAir); !slices.Equal(got, wantA) {
		t.Errorf("A's airline messages %v, want %v", got, wantA)
	}
	if got := b.messageIDs(t, w.mAir); len(got) != len(w.mMsgs)+1 || !slices.Equal(got[:len(w.mMsgs)], w.mMsgs) {
		t.Errorf("M's airline messages %v (had %v)", got, w.mMsgs)
	}
	notes, err := b.st.Notes(b.ctx, w.aAir)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].ID != w.note {
		t.Errorf("A's notes %+v", notes)
	}
	// The next text from phoneA is A's again.
	if r := b.text(t, b.air, phoneA, "found it", time.Now()); r.ConversationID != w.aAir || r.ContactID != w.a {
		t.Errorf("a text after the undo went to conversation %d contact %d", r.ConversationID, r.ContactID)
	}
	if got := w.lastMerge(t); got.UndoneAt == nil || got.UndoneBy != w.admin {
		t.Errorf("merge row after undo %+v", got)
	}
	if _, refused := w.undo(t, w.merge.ID, time.Now()); refused != "this merge was already undone" {
		t.Errorf("second undo: %q", refused)
	}
}

func TestUndoMergeRefusals(t *testing.T) {
	t.Parallel()
	w := newUnmergeWorld(t)
	b := w.b
	count := func() (n int) {
		t.Helper()
		if err := b.st.Pool.QueryRow(b.ctx, `SELECT count(*) FROM contacts WHERE merged_into IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	live := count()

	if _, refused := w.undo(t, w.merge.ID, w.merge.CreatedAt.Add(store.MergeUndoWindow+time.Minute)); refused == "" {
		t.Error("an undo after 7 days was not refused")
	}

	// A later merge into M (a third customer linked through the API): the
	// first cannot be undone while it stands, and itself cannot be undone.
	b.text(t, b.air, "+15551230003", "hi", time.Now())
	b.upsert(t, store.ContactUpsert{LoyaltyID: "L-1", Phones: []string{"+15551230003"}})
	api := w.lastMerge(t)
	if api.ByPerson {
		t.Fatalf("an API merge is marked as a person's: %+v", api)
	}
	if _, refused := w.undo(t, api.ID, time.Now()); refused != "only a merge made in the console can be undone" {
		t.Errorf("undo of an API merge: %q", refused)
	}
	if _, refused := w.undo(t, w.merge.ID, time.Now()); refused == "" {
		t.Error("an undo under a later merge was not refused")
	}
	if got := count(); got != live {
		t.Errorf("live contacts %d, want %d: a refused undo changed something", got, live)
	}
	if _, err := b.st.UndoMerge(b.ctx, 999999, w.admin, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown merge: %v", err)
	}
}

// The member texts, from their own phone, into the conversation the merge
// gave them whole: undoing would take their texts away, so it is refused.
func TestUndoMergeRefusedWhenTheMemberUsedAMovedConversation(t *testing.T) {
	t.Parallel()
	w := newUnmergeWorld(t)
	b := w.b
	if r := b.text(t, b.hotel, phoneM, "Maria at the hotel", time.Now()); r.ConversationID != w.aHotel {
		t.Fatalf("the member's hotel text went to %d, want the moved conversation %d", r.ConversationID, w.aHotel)
	}
	if _, refused := w.undo(t, w.merge.ID, time.Now()); !strings.Contains(refused, "member has texted since") {
		t.Fatalf("undo: %q, want a refusal naming the member's texts", refused)
	}
	if c := b.contact(t, w.a); c.MergedInto != w.m {
		t.Fatal("a refused undo changed the contacts")
	}
}
