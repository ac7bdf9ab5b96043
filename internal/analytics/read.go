package analytics

import (
	"context"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// ResponseLookahead is how long after a period replies and closes are still
// read for the waits that began in it: a reply later than that counts as
// none.
const ResponseLookahead = 7 * 24 * time.Hour

// TopicTexts is how many customer texts a period's topics read at most.
const TopicTexts = 50000

// ReadWaits reads the waits that began in p for brand: the conversations'
// events from p's start to ResponseLookahead past its end, with a customer
// already waiting when p begins read as still waiting (their next text is
// no new wait).
func ReadWaits(ctx context.Context, st *store.Store, brandID int64, p Period) ([]Episode, error) {
	evs, err := st.AnalyticsConversationEvents(ctx, brandID, p.Start, p.End.Add(ResponseLookahead))
	if err != nil {
		return nil, err
	}
	events := make([]Event, len(evs))
	var ids []int64
	for i, e := range evs {
		events[i] = Event{Conversation: e.ConversationID, Kind: EventKind(e.Kind), At: e.At}
		if i == 0 || e.ConversationID != evs[i-1].ConversationID {
			ids = append(ids, e.ConversationID)
		}
	}
	open, err := st.AnalyticsWaitingAt(ctx, ids, p.Start)
	if err != nil {
		return nil, err
	}
	return Episodes(WithOpenWaits(events, open)), nil
}

// TopicLists are a period's top and rising topics, n each, and how many
// texts they were read from in the period and the one before.
type TopicLists struct {
	Top, Rising          []Topic
	Texts, PreviousTexts int
}

// ReadTopics reads the customer texts of p and of the period of equal
// length before it (TopicTexts at most each) and ranks their topics.
func ReadTopics(ctx context.Context, st *store.Store, brandID int64, p Period, n int) (TopicLists, error) {
	read := func(p Period) ([]Text, error) {
		rows, err := st.AnalyticsInboundTexts(ctx, brandID, p.Start, p.End, TopicTexts)
		out := make([]Text, len(rows))
		for i, r := range rows {
			out[i] = Text{ID: r.ID, Body: r.Body}
		}
		return out, err
	}
	cur, err := read(p)
	if err != nil {
		return TopicLists{}, err
	}
	prev, err := read(p.Previous())
	if err != nil {
		return TopicLists{}, err
	}
	cc, pc := Count(cur), Count(prev)
	return TopicLists{Top: Top(cc, pc, n), Rising: Rising(cc, pc, n), Texts: len(cur), PreviousTexts: len(prev)}, nil
}
