package console

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// streamWatch checks every open event stream of the process for
// revocation in one pass each revocationCheck: one statement for all their
// sessions and one brand lookup per distinct user. Each stream asking for
// itself cost two statements per stream per pass, 500 a second with 500
// consoles open.
type streamWatch struct {
	mu      sync.Mutex
	streams map[*watchedStream]struct{}
	running bool
}

// watchedStream is one open stream as it began: a pass that finds its
// session ended, or its user's role or brands changed, closes revoked.
type watchedStream struct {
	token   string
	user    store.User
	brands  []int64
	revoked chan struct{}
}

// watch registers a stream, starting the passes if none run.
func (h *Handlers) watch(token string, user store.User, brands []int64) *watchedStream {
	ws := &watchedStream{token: token, user: user, brands: brands, revoked: make(chan struct{})}
	w := &h.streams
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.streams == nil {
		w.streams = map[*watchedStream]struct{}{}
	}
	w.streams[ws] = struct{}{}
	if !w.running {
		w.running = true
		go h.watchPasses()
	}
	return ws
}

// unwatch forgets a stream that ended.
func (h *Handlers) unwatch(ws *watchedStream) {
	h.streams.mu.Lock()
	defer h.streams.mu.Unlock()
	delete(h.streams.streams, ws)
}

// watchPasses runs a pass each revocationCheck until no stream is open.
func (h *Handlers) watchPasses() {
	tick := time.NewTicker(revocationCheck)
	defer tick.Stop()
	for range tick.C {
		w := &h.streams
		w.mu.Lock()
		if len(w.streams) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		open := make([]*watchedStream, 0, len(w.streams))
		tokens := make([]string, 0, len(w.streams))
		for ws := range w.streams {
			open = append(open, ws)
			tokens = append(tokens, ws.token)
		}
		w.mu.Unlock()
		h.watchPass(open, tokens)
	}
}

// watchPass closes the streams whose session ended or whose user's role or
// brands changed. A Postgres error skips the pass: it asks again next time.
func (h *Handlers) watchPass(open []*watchedStream, tokens []string) {
	ctx, cancel := context.WithTimeout(context.Background(), revocationCheck)
	defer cancel()
	live, err := h.Auth.LiveAll(ctx, tokens)
	if err != nil {
		return
	}
	type brandsOf struct {
		ids []int64
		err error
	}
	now := map[int64]brandsOf{}
	for _, ws := range open {
		u, ok := live[ws.token]
		if ok && u.Role == ws.user.Role {
			b, seen := now[u.ID]
			if !seen {
				b.ids, b.err = h.Conversations.Brands(ctx, u)
				now[u.ID] = b
			}
			if b.err != nil || sameBrands(b.ids, ws.brands) {
				continue
			}
		}
		h.unwatch(ws)
		close(ws.revoked)
	}
}
