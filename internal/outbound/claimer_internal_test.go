package outbound

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// queueOne stores one queued outbound text and returns its id.
func queueOne(t *testing.T, st *store.Store, brandID int64, to, purpose string) int64 {
	t.Helper()
	q, err := st.QueueOutbound(context.Background(), []store.OutboundRow{{BrandID: brandID, From: "+15005550006", To: to,
		Body: "hello", Purpose: purpose, Origin: "api", Queue: "replies", Segments: 1, Encoding: "GSM-7"}})
	if err != nil {
		t.Fatal(err)
	}
	return q[0].ID
}

func claimWorld(t *testing.T) (*store.Store, int64) {
	t.Helper()
	t.Parallel()
	st, _ := storetest.New(t)
	b, err := st.CreateBrand(context.Background(), store.BrandInput{Slug: "b", Name: "B",
		Numbers: []store.BrandNumber{{Number: "+15005550006", MPS: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	return st, b.ID
}

// Two tasks of one message whose claims land in one grouped claim (the relay
// enqueued it again while the first still waited): exactly one owns it.
func TestGroupedClaimHasOneOwner(t *testing.T) {
	st, brand := claimWorld(t)
	id := queueOne(t, st, brand, "+14155550100", "conversational")
	c := &claimer{st: st}
	reqs := []claimReq{{id: id, resp: make(chan claimResp, 1)}, {id: id, resp: make(chan claimResp, 1)}, {id: id, resp: make(chan claimResp, 1)}}
	c.run(reqs)
	won, token := 0, int64(0)
	for _, r := range reqs {
		res := <-r.resp
		if res.err != nil {
			t.Fatal(res.err)
		}
		if res.ok {
			won, token = won+1, res.token
		}
	}
	if won != 1 {
		t.Fatalf("%d requesters own the claim of one message, want 1", won)
	}
	// Only the claim's own token gives it back.
	if err := st.ReleaseClaims(context.Background(), []int64{id}, token+1); err != nil {
		t.Fatal(err)
	}
	if m, _ := st.LoadForSend(context.Background(), id); m.Status != "sending" {
		t.Fatalf("another token gave the claim back: %s", m.Status)
	}
	// A claim given back is claimable again, and the attempt is not counted.
	if err := st.ReleaseClaims(context.Background(), []int64{id}, token); err != nil {
		t.Fatal(err)
	}
	m, err := st.LoadForSend(context.Background(), id)
	if err != nil || m.Status != "queued" || m.Attempts != 0 {
		t.Fatalf("after release: %s, %d attempts, %v; want queued with 0", m.Status, m.Attempts, err)
	}
}

// Two marketing texts to one phone claimed in one statement with one send
// left under the cap: exactly one is under it.
func TestMarketingClaimedTogetherUnderCap(t *testing.T) {
	st, brand := claimWorld(t)
	ctx := context.Background()
	phone := "+14155550101"
	// The cap is 3; two went already.
	for i := 0; i < 2; i++ {
		id := queueOne(t, st, brand, phone, "marketing")
		if got, err := st.ClaimManyForSend(ctx, []int64{id}, 1, nil); err != nil || len(got) != 1 {
			t.Fatalf("claim: %v", err)
		}
	}
	a, b := queueOne(t, st, brand, phone, "marketing"), queueOne(t, st, brand, phone, "marketing")
	got, err := st.ClaimManyForSend(ctx, []int64{b, a}, 2, nil)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim both: %d claimed, %v", len(got), err)
	}
	under := 0
	for _, c := range got {
		if c.MarketingLast24h < c.MarketingCap {
			under++
		}
	}
	if under != 1 {
		t.Fatalf("%d of two texts claimed together are under the cap with one send left, want 1 (%d and %d counted)",
			under, got[a].MarketingLast24h, got[b].MarketingLast24h)
	}
}
