// Package realtime tells every open console what changed. One connection per
// process listens on Postgres (LISTEN parley_conversation); the hub fans each
// announced conversation out to the subscribers allowed to see its brand. A
// console that reconnects names the last event it saw and is told what
// changed since, so the consoles of several `parley serve` processes stay live.
package realtime

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// Event is one thing a console should refresh. ID is the resume point a
// reconnecting client sends back (Last-Event-ID).
type Event struct {
	ID             string
	ConversationID int64
	// Resync: events may have been missed (the listener reconnected, or this
	// subscriber fell behind); the console should reload what it shows.
	Resync bool
	// Breach: the conversation's response target has just been missed (for
	// the admins' notice; a reconnecting console is not told of past ones).
	Breach bool
}

// Sub is one open console.
type Sub struct {
	C        chan Event
	brands   []int64 // nil: every brand
	overflow atomic.Bool
}

// Overflowed reports (once) that events were dropped because the console
// read too slowly; it should resync.
func (s *Sub) Overflowed() bool { return s.overflow.Swap(false) }

// Hub is the process's single listener and its subscribers.
type Hub struct {
	st  *store.Store
	log *slog.Logger

	mu     sync.Mutex
	subs   map[*Sub]struct{}
	brands map[int64]int64 // conversation → brand (never changes)
	closed bool
	last   int64 // last event id handed out (unix µs, strictly increasing)
	ready  chan struct{}
	once   sync.Once
}

// catchUpSlack covers the time between a transaction's start (its
// updated_at) and its commit (when the notification goes out).
const catchUpSlack = 10 * time.Second

// catchUpMax: beyond this many changed conversations a console is told to
// reload instead.
const catchUpMax = 500

const subBuffer = 256

// New returns a hub; Run starts it.
func New(st *store.Store, log *slog.Logger) *Hub {
	return &Hub{st: st, log: log, subs: map[*Sub]struct{}{}, brands: map[int64]int64{}, ready: make(chan struct{})}
}

// Ready is closed once the hub listens.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run listens until ctx is done.
func (h *Hub) Run(ctx context.Context) error {
	first := true
	err := h.st.ListenConversations(ctx, func() {
		if !first {
			h.log.Info("realtime: listener reconnected; consoles resync")
			h.deliver(Event{Resync: true}, -1)
		}
		first = false
		h.once.Do(func() { close(h.ready) })
	}, func(id int64, breach bool) { h.changed(ctx, id, breach) })
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Close ends every subscription (at shutdown, so open streams return).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		close(s.C)
		delete(h.subs, s)
	}
}

// Subscribe opens a subscription to the conversations of brandIDs (nil:
// all). The channel is closed when the hub closes.
func (h *Hub) Subscribe(brandIDs []int64) *Sub {
	s := &Sub{C: make(chan Event, subBuffer), brands: brandIDs}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.C)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Unsubscribe ends a subscription.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.C)
	}
}

// Subscribers is how many consoles are connected to this process.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// nextID hands out strictly increasing ids from the clock.
func (h *Hub) nextID() string {
	now := time.Now().UnixMicro()
	if now <= h.last {
		now = h.last + 1
	}
	h.last = now
	return strconv.FormatInt(now, 10)
}

func (h *Hub) changed(ctx context.Context, id int64, breach bool) {
	h.mu.Lock()
	brand, ok := h.brands[id]
	listening := len(h.subs) > 0
	h.mu.Unlock()
	if !listening {
		// No console is open on this process: nobody to tell, so no query for
		// the brand (every first text opens a conversation the cache has not
		// seen). A console that connects later asks for what it missed
		// through Since, which reads the database, not this cache.
		return
	}
	if !ok {
		b, err := h.st.ConversationBrand(ctx, id)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
				h.log.Warn("realtime: brand of conversation", "conversation_id", id, "err", err)
			}
			return
		}
		brand = b
		h.mu.Lock()
		if len(h.brands) > 200_000 {
			clear(h.brands)
		}
		h.brands[id] = brand
		h.mu.Unlock()
	}
	h.deliver(Event{ConversationID: id, Breach: breach}, brand)
}

// deliver sends ev to every subscriber that may see brand (-1: everyone),
// never blocking: a full subscriber is marked to resync instead.
func (h *Hub) deliver(ev Event, brand int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ev.ID = h.nextID()
	for s := range h.subs {
		if brand >= 0 && s.brands != nil && !slices.Contains(s.brands, brand) {
			continue
		}
		select {
		case s.C <- ev:
		default:
			s.overflow.Store(true)
		}
	}
}

// Since returns what changed, for brandIDs (nil: all), after the event id
// lastID that a reconnecting console saw, or resync when that cannot be told
// (an id that is not ours, or too much changed).
func (h *Hub) Since(ctx context.Context, lastID string, brandIDs []int64) (evs []Event, resync bool, err error) {
	us, err := strconv.ParseInt(lastID, 10, 64)
	if err != nil || us <= 0 {
		return nil, true, nil
	}
	since := time.UnixMicro(us).Add(-catchUpSlack)
	if time.Since(since) > time.Hour {
		return nil, true, nil
	}
	changed, err := h.st.ConversationsChangedSince(ctx, since, catchUpMax)
	if err != nil {
		return nil, false, err
	}
	if len(changed) == catchUpMax {
		return nil, true, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range changed {
		if brandIDs != nil && !slices.Contains(brandIDs, c.BrandID) {
			continue
		}
		evs = append(evs, Event{ID: h.nextID(), ConversationID: c.ID})
	}
	return evs, false, nil
}
