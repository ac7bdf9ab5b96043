package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

func TestConversationsListFiltersAndPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Four conversations: three with the airline, one with the hotel, each
	// a minute apart, newest last.
	c1 := b.text(t, b.air, "+12125550301", "1", t0)
	c2 := b.text(t, b.air, "+12125550302", "2", t0.Add(time.Minute))
	c3 := b.text(t, b.hotel, "+12125550301", "3", t0.Add(2*time.Minute))
	c4 := b.text(t, b.air, "+12125550303", "4", t0.Add(3*time.Minute))
	if _, err := b.st.Pool.Exec(b.ctx, `UPDATE conversations SET status = 'closed' WHERE id = $1`, c2.ConversationID); err != nil {
		t.Fatal(err)
	}

	ids := func(q store.ConversationQuery) []int64 {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 50
		}
		cs, err := b.st.Conversations(b.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int64, len(cs))
		for i, c := range cs {
			out[i] = c.ID
		}
		return out
	}
	for name, tc := range map[string]struct {
		q    store.ConversationQuery
		want []int64
	}{
		"all, newest first": {store.ConversationQuery{}, []int64{c4.ConversationID, c3.ConversationID, c2.ConversationID, c1.ConversationID}},
		"brand":             {store.ConversationQuery{BrandID: b.air.ID}, []int64{c4.ConversationID, c2.ConversationID, c1.ConversationID}},
		"contact":           {store.ConversationQuery{ContactID: c1.ContactID}, []int64{c3.ConversationID, c1.ConversationID}},
		"status":            {store.ConversationQuery{Status: "closed"}, []int64{c2.ConversationID}},
		"brand and contact": {store.ConversationQuery{BrandID: b.hotel.ID, ContactID: c1.ContactID}, []int64{c3.ConversationID}},
		"page 1":            {store.ConversationQuery{Limit: 2}, []int64{c4.ConversationID, c3.ConversationID}},
		"page 2":            {store.ConversationQuery{Limit: 2, Before: c3.ConversationID}, []int64{c2.ConversationID, c1.ConversationID}},
	} {
		if got := ids(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	if _, err := b.st.Conversations(b.ctx, store.ConversationQuery{Before: 999999, Limit: 5}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("unknown cursor: %v, want ErrBadCursor", err)
	}

	// A merged conversation is not listed.
	b.upsert(t, store.ContactUpsert{Phones: []string{"+12125550303", "+12125550302"}})
	if got, want := ids(store.ConversationQuery{BrandID: b.air.ID}), []int64{c4.ConversationID, c1.ConversationID}; !slices.Equal(got, want) {
		t.Errorf("after merge: %v, want %v", got, want)
	}
	// Merging an open conversation into a closed one… here closed c2 went into open c4: still open.
	if c := b.conversation(t, c4.ConversationID); c.Status != "open" {
		t.Errorf("merged conversation status %q, want open", c.Status)
	}
	if _, err := b.st.ConversationByID(b.ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown conversation: %v", err)
	}
}
