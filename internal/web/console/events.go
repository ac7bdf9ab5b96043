package console

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/realtime"
)

// revocationCheck is how often the open streams are checked: their
// sessions, their users' roles and brands still what they were.
const revocationCheck = 2 * time.Second

// sameBrands compares two brand sets (nil: every brand).
func sameBrands(a, b []int64) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// heartbeat keeps proxies from closing an idle stream and notices a gone client.
const heartbeat = 20 * time.Second

// events: GET /events — Server-Sent Events: one `conversation` event (data:
// the conversation id) each time a conversation the user may see changes,
// `resync` when the console should reload what it shows, and for admins
// `breach` (data: the conversation id) when a waiting customer's response
// target has just been missed. A reconnecting browser sends Last-Event-ID
// and first receives what changed meanwhile.
func (h *Handlers) events(c echo.Context) error {
	ctx := c.Request().Context()
	brands, err := h.Conversations.Brands(ctx, session(c).User)
	if err != nil {
		return err
	}
	sub := h.Hub.Subscribe(brands)
	defer h.Hub.Unsubscribe(sub)

	w := c.Response()
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	// The server's read timeout must not end a stream that reads nothing more.
	_ = rc.SetReadDeadline(time.Time{})
	send := func(ev realtime.Event) error {
		_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
		var err error
		switch {
		case ev.Breach:
			_, err = fmt.Fprintf(w, "id: %s\nevent: breach\ndata: {\"id\":%d}\n\n", ev.ID, ev.ConversationID)
		case ev.Resync:
			_, err = fmt.Fprintf(w, "id: %s\nevent: resync\ndata: {}\n\n", ev.ID)
		default:
			_, err = fmt.Fprintf(w, "id: %s\nevent: conversation\ndata: {\"id\":%d}\n\n", ev.ID, ev.ConversationID)
		}
		if err != nil {
			return err
		}
		return rc.Flush()
	}
	_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
	if _, err := fmt.Fprint(w, "retry: 2000\n: connected\n\n"); err != nil {
		return nil
	}
	_ = rc.Flush()
	if last := c.Request().Header.Get("Last-Event-ID"); last != "" {
		evs, resync, err := h.Hub.Since(ctx, last, brands)
		if err != nil {
			h.Log.Warn("console: event catch-up failed; the console resyncs", "err", err)
			resync = true
		}
		if resync {
			evs = []realtime.Event{{ID: last, Resync: true}}
		}
		for _, ev := range evs {
			if send(ev) != nil {
				return nil
			}
		}
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	token, _ := c.Get(ctxToken).(string)
	user := session(c).User
	admin := auth.Can(user.Role, auth.Admin)
	// Revocation takes effect here too: a session ended (sign-out, a
	// password change or reset), a user disabled, or a change of role or
	// brands closes the stream; the browser reconnects as whoever it now
	// is, or is sent to sign in. The process checks all its streams at
	// once (events_watch.go).
	ws := h.watch(token, user, brands)
	defer h.unwatch(ws)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ws.revoked:
			return nil
		case ev, ok := <-sub.C:
			if !ok {
				return nil // the server is shutting down; the browser reconnects elsewhere
			}
			if sub.Overflowed() {
				ev = realtime.Event{ID: ev.ID, Resync: true}
			}
			if ev.Breach && !admin {
				continue // missed targets are announced to admins
			}
			if send(ev) != nil {
				return nil
			}
		case <-tick.C:
			_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			if rc.Flush() != nil {
				return nil
			}
		}
	}
}
