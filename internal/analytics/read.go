package analytics

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// ResponseLookahead is how long after a period replies and closes are still
// read for the waits that began in it: a reply later than that counts as
// none.
const ResponseLookahead = 7 * 24 * time.Hour

// TopicTexts is how many customer texts a period's topics read at most.
const TopicTexts = 50000

// ReadWaits reads the waits that began in p for brand, as if from the
// conversations' events from p's start to ResponseLookahead past its end,
// with a customer already waiting when p begins read as still waiting
// (their next text is no new wait): the stored waits (the rollups) and
// the events after the watermark, or, with nothing folded past p's start,
// the raw events alone (ReadWaitsRaw).
func ReadWaits(ctx context.Context, st *store.Store, brandID int64, p Period) ([]Episode, error) {
	if st.RawAnalytics.Load() {
		return ReadWaitsRaw(ctx, st, brandID, p)
	}
	until := p.End.Add(ResponseLookahead)
	r, err := st.AnalyticsWaitsRead(ctx, brandID, p.Start, p.End, until)
	if err != nil {
		return nil, err
	}
	if !r.FoldedTo.After(p.Start) {
		return ReadWaitsRaw(ctx, st, brandID, p)
	}
	return MergeWaits(r, p, until), nil
}

// ReadWaitsRaw is ReadWaits from the raw events alone.
func ReadWaitsRaw(ctx context.Context, st *store.Store, brandID int64, p Period) ([]Episode, error) {
	evs, err := st.AnalyticsConversationEvents(ctx, brandID, p.Start, p.End.Add(ResponseLookahead))
	if err != nil {
		return nil, err
	}
	var ids []int64
	for i, e := range evs {
		if i == 0 || e.ConversationID != evs[i-1].ConversationID {
			ids = append(ids, e.ConversationID)
		}
	}
	open, err := st.AnalyticsWaitingAt(ctx, ids, p.Start)
	if err != nil {
		return nil, err
	}
	return Episodes(WithOpenWaits(toEvents(evs, nil), open)), nil
}

func toEvents(evs []store.ConversationEvent, skip map[int64]bool) []Event {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		if !skip[e.ConversationID] {
			out = append(out, Event{Conversation: e.ConversationID, Kind: EventKind(e.Kind), At: e.At, Actor: e.Actor})
		}
	}
	return out
}

// MergeWaits makes the waits begun in p of what AnalyticsWaitsRead read:
// the stored waits, each conversation's open one carried on through the
// events after the watermark, and the changed conversations from their
// raw events. A response or close at or after until (past the lookahead)
// counts as none, as it would be unseen by a read ending there. The
// answer is in no particular order (every reader aggregates it); only
// the few waits made again from events are keyed, the stored ones are
// passed through.
func MergeWaits(r store.WaitsRead, p Period, until time.Time) []Episode {
	type key struct {
		conv  int64
		start int64
	}
	again := map[key]Episode{}
	open := make(map[int64]Episode, len(r.Open))
	for id, w := range r.Open {
		open[id] = episodeOf(w)
	}
	for _, ep := range Episodes(WithStoredWaits(toEvents(r.Tail, r.Changed), open)) {
		if w, ok := open[ep.Conversation]; ok && w.Start.Equal(ep.Start) && len(w.Next) > 0 {
			ep.Next = append(slices.Clip(w.Next), ep.Next...) // those before the watermark
		}
		again[key{ep.Conversation, ep.Start.UnixNano()}] = ep
	}
	for _, ep := range Episodes(WithOpenWaits(toEvents(r.ChangedEvents, nil), r.ChangedWaiting)) {
		again[key{ep.Conversation, ep.Start.UnixNano()}] = ep
	}
	out := make([]Episode, 0, len(r.Stored)+len(again))
	keep := func(ep Episode) {
		if ep.Start.Before(p.Start) || !ep.Start.Before(p.End) {
			return
		}
		out = append(out, clip(ep, until))
	}
	for _, w := range r.Stored {
		if r.Changed[w.ConversationID] {
			continue
		}
		if len(again) > 0 {
			if _, ok := again[key{w.ConversationID, w.Start.UnixNano()}]; ok {
				continue
			}
		}
		keep(episodeOf(w))
	}
	for _, ep := range again {
		keep(ep)
	}
	return out
}

// clip is ep as a read of the events before until would see it: what came
// at or after until did not happen yet.
func clip(ep Episode, until time.Time) Episode {
	late := func(t *time.Time) bool { return t != nil && !t.Before(until) }
	if late(ep.FirstResponse) {
		ep.FirstResponse, ep.Responder = nil, 0
	}
	if late(ep.Resolved) {
		ep.Resolved = nil
	}
	if late(ep.AutoReply) {
		ep.AutoReply = nil
	}
	if late(ep.Pending) {
		ep.Pending = nil
	}
	for i, s := range ep.Next {
		if !s.Answered.Before(until) {
			if s.Asked.Before(until) && ep.Pending == nil {
				ep.Pending = &ep.Next[i].Asked
			}
			ep.Next = ep.Next[:i:i]
			break
		}
	}
	if ep.FirstResponse == nil {
		ep.Next, ep.Pending = nil, nil
	}
	return ep
}

// TopicLists are a period's top and rising topics, n each, and how many
// texts they were read from in the period and the one before.
type TopicLists struct {
	Top, Rising          []Topic
	Texts, PreviousTexts int
	// CountError is how many texts a count of the period may be short of
	// the truth: 0 when every day read was counted whole (the rollup
	// prunes a busy day's long tail, store.TopicPruneAt).
	CountError int
}

// ReadTopics ranks the topics of p against the period of as many days
// before it: from the topics rollup and the texts after its watermark,
// or, where the rollup cannot answer (RawAnalytics, not folded into the
// period yet, a changed day not recounted yet), from the raw texts
// (ReadTopicsRaw).
func ReadTopics(ctx context.Context, st *store.Store, brandID int64, p Period, n int) (TopicLists, error) {
	if st.RawAnalytics.Load() {
		return ReadTopicsRaw(ctx, st, brandID, p, n)
	}
	prev := p.Previous()
	r, err := st.AnalyticsTopicsRead(ctx, brandID, p.Start.Location(), prev.Start, p.Start, p.End, TopicTexts)
	if err != nil {
		return TopicLists{}, err
	}
	if !r.Usable {
		return ReadTopicsRaw(ctx, st, brandID, p, n)
	}
	tailCur, tailPrev := Count(texts(r.Tail)), Count(texts(r.PreviousTail))
	cur := Counts{n: make(map[string]int, len(r.Sums)), examples: map[string][]Text{}}
	before := Counts{n: make(map[string]int, len(r.Sums)), slack: map[string]int{}}
	for _, s := range r.Sums {
		cur.n[s.Term], before.n[s.Term] = s.Texts, s.Previous
		if s.PreviousSlack > 0 {
			before.slack[s.Term] = s.PreviousSlack
		}
	}
	// A term of the tail alone is missing from every day of the rollup.
	for t := range tailCur.n {
		if _, ok := before.n[t]; !ok && r.PreviousCutoff > 0 {
			before.slack[t] = r.PreviousCutoff
		}
	}
	for t, c := range tailCur.n {
		cur.n[t] += c
	}
	for t, c := range tailPrev.n {
		before.n[t] += c
	}
	out := TopicLists{Top: Top(cur, before, n), Rising: Rising(cur, before, n), Texts: r.Texts + len(r.Tail),
		PreviousTexts: r.PreviousTexts + len(r.PreviousTail), CountError: r.Cutoff}
	// Examples: the oldest, the rollup's days' before the tail's.
	var terms []string
	for _, l := range [][]Topic{out.Top, out.Rising} {
		for _, t := range l {
			terms = append(terms, t.Term)
		}
	}
	if len(terms) == 0 {
		return out, nil
	}
	ex, err := st.AnalyticsTopicExamples(ctx, brandID, p.Start.Format(time.DateOnly), p.End.Format(time.DateOnly), terms, MaxExamples)
	if err != nil {
		return TopicLists{}, err
	}
	for _, l := range [][]Topic{out.Top, out.Rising} {
		for i := range l {
			var e []Text
			for _, t := range ex[l[i].Term] {
				e = append(e, Text{ID: t.ID, Body: t.Body})
			}
			e = append(e, tailCur.examples[l[i].Term]...)
			l[i].Examples = e[:min(len(e), MaxExamples)]
		}
	}
	return out, nil
}

func texts(rows []store.InboundText) []Text {
	out := make([]Text, len(rows))
	for i, r := range rows {
		out[i] = Text{ID: r.ID, Body: r.Body}
	}
	return out
}

// ReadTopicsRaw reads the customer texts of p and of the period before
// it (TopicTexts at most each) and ranks their topics.
func ReadTopicsRaw(ctx context.Context, st *store.Store, brandID int64, p Period, n int) (TopicLists, error) {
	type read struct {
		texts  int
		counts Counts
		err    error
	}
	// The two periods are read and counted at once, each on its own
	// connection and core.
	count := func(p Period, out *read) {
		rows, err := st.AnalyticsInboundTexts(ctx, brandID, p.Start, p.End, TopicTexts)
		if err != nil {
			out.err = err
			return
		}
		out.texts, out.counts = len(rows), Count(texts(rows))
	}
	var cur, prev read
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); count(p.Previous(), &prev) }()
	count(p, &cur)
	wg.Wait()
	if err := cmp.Or(cur.err, prev.err); err != nil {
		return TopicLists{}, err
	}
	return TopicLists{Top: Top(cur.counts, prev.counts, n), Rising: Rising(cur.counts, prev.counts, n), Texts: cur.texts,
		PreviousTexts: prev.texts}, nil
}
