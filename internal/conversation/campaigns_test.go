package conversation

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

func TestCampaignOf(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	msg := func(id int64, dir, origin, ref string, after time.Duration) store.Message {
		return store.Message{ID: id, Direction: dir, Origin: origin, OriginRef: ref, CreatedAt: t0.Add(after)}
	}
	got := CampaignOf([]store.Message{
		msg(1, "inbound", "customer", "", 0),                  // before any campaign
		msg(2, "outbound", "campaign", "7", time.Hour),        // campaign 7's text
		msg(3, "inbound", "customer", "", 2*time.Hour),        // a reply to it
		msg(4, "inbound", "customer", "", 40*time.Hour),       // still within 48 h
		msg(5, "outbound", "agent", "12", 41*time.Hour),       // an agent answers
		msg(6, "inbound", "customer", "", 42*time.Hour),       // now a conversation with the agent
		msg(7, "outbound", "campaign", "8", 100*time.Hour),    // campaign 8
		msg(8, "inbound", "customer", "", 149*time.Hour),      // 49 h later: not a reply
		msg(9, "outbound", "campaign", "junk", 150*time.Hour), // a bad reference
		msg(10, "inbound", "customer", "", 151*time.Hour),
	})
	want := map[int64]CampaignTag{2: {ID: 7}, 3: {ID: 7, Reply: true}, 4: {ID: 7, Reply: true}, 7: {ID: 8}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("message %d: %+v, want %+v", id, got[id], w)
		}
	}
}
