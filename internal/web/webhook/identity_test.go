package webhook_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/store"
)

// Texts from two phones of one loyalty member land in one conversation, and
// replies go to the phone the customer last wrote from. Linking a phone that
// already texted as a stranger merges that history in.
func TestLoyaltyMemberThreading(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	const home, work, travel = "+13035550100", "+13035550101", "+13035550102"
	if _, err := env.Store.UpsertContact(ctx, store.ContactUpsert{LoyaltyID: "FF-1001", Phones: []string{home, work}}); err != nil {
		t.Fatal(err)
	}
	env.PostForm(t, smsPath, apptest.Inbound("SMe0000000000000000000000000000001", home, "from home"))
	env.PostForm(t, smsPath, apptest.Inbound("SMe0000000000000000000000000000002", work, "from work"))
	// A third phone texts before anyone knows whose it is.
	env.PostForm(t, smsPath, apptest.Inbound("SMe0000000000000000000000000000003", travel, "from the road"))
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE merged_into IS NULL`); n != 2 {
		t.Fatalf("%d live conversations before linking, want 2", n)
	}
	if _, err := env.Store.UpsertContact(ctx, store.ContactUpsert{LoyaltyID: "FF-1001", Phones: []string{travel}}); err != nil {
		t.Fatal(err)
	}
	convs, err := env.Store.Conversations(ctx, store.ConversationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 {
		t.Fatalf("%d conversations after linking, want 1: %+v", len(convs), convs)
	}
	c := convs[0]
	if c.LastPhone != travel {
		t.Fatalf("replies go to %s, want %s (the phone last written from)", c.LastPhone, travel)
	}
	msgs := messages(t, env, c.ID)
	if len(msgs) != 3 || msgs[0].Body != "from home" || msgs[1].Body != "from work" || msgs[2].Body != "from the road" {
		t.Fatalf("thread %+v", msgs)
	}
	// The member writes from home again: replies follow.
	env.PostForm(t, smsPath, apptest.Inbound("SMe0000000000000000000000000000004", home, "back home"))
	got, err := env.Store.ConversationByID(ctx, c.ID)
	if err != nil || got.LastPhone != home {
		t.Fatalf("last phone %q %v, want %s", got.LastPhone, err, home)
	}
}

// Both phones of a member text for the first time at the same moment: one
// conversation each, nothing refused.
func TestTwoPhonesOfOneMemberRace(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	const members = 30
	for i := 0; i < members; i++ {
		if _, err := env.Store.UpsertContact(ctx, store.ContactUpsert{LoyaltyID: fmt.Sprintf("FF-R%d", i),
			Phones: []string{fmt.Sprintf("+1720555%04d", 2*i), fmt.Sprintf("+1720555%04d", 2*i+1)}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 2*members; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := env.PostForm(t, smsPath, apptest.Inbound(fmt.Sprintf("SMh%033d", i), fmt.Sprintf("+1720555%04d", i), "hi")); code != 200 {
				t.Errorf("text %d: %d %s", i, code, body)
			}
		}()
	}
	wg.Wait()
	if n := env.Count(t, `SELECT count(*) FROM messages`); n != 2*members {
		t.Fatalf("%d messages stored, want %d", n, 2*members)
	}
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE merged_into IS NULL`); n != members {
		t.Fatalf("%d conversations, want %d", n, members)
	}
}
