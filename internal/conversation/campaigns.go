package conversation

import (
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// ReplyWindow is how long after a campaign text the customer's texts count
// as replies to it (the campaign results count them the same way).
const ReplyWindow = 48 * time.Hour

// CampaignTag marks a message as a campaign's text, or as a reply to one.
type CampaignTag struct {
	ID    int64
	Name  string
	Reply bool
}

// CampaignOf says which campaign each message of a history (oldest first)
// belongs to: a campaign text is its campaign's; a customer's text is a
// reply to a campaign when the last text the brand sent before it was that
// campaign's, less than ReplyWindow earlier. Messages of no campaign are
// absent from the map. Pure: the names are filled in by the caller.
func CampaignOf(msgs []store.Message) map[int64]CampaignTag {
	out := map[int64]CampaignTag{}
	var last *store.Message // the newest outbound so far
	for i := range msgs {
		m := &msgs[i]
		if m.Direction == "outbound" {
			last = m
			if id, ok := campaignID(m); ok {
				out[m.ID] = CampaignTag{ID: id}
			}
			continue
		}
		if last == nil {
			continue
		}
		if id, ok := campaignID(last); ok && m.CreatedAt.Sub(last.CreatedAt) < ReplyWindow {
			out[m.ID] = CampaignTag{ID: id, Reply: true}
		}
	}
	return out
}

func campaignID(m *store.Message) (int64, bool) {
	if m.Origin != "campaign" {
		return 0, false
	}
	id, err := strconv.ParseInt(m.OriginRef, 10, 64)
	return id, err == nil && id > 0
}
