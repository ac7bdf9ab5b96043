package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/hooks"
)

// eventLog is a brand's webhook receiver: the events in the order they came.
type eventLog struct {
	mu  sync.Mutex
	got []struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
}

func newEventLog(t *testing.T) (*eventLog, string) {
	l := &eventLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var e struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(b, &e)
		l.mu.Lock()
		l.got = append(l.got, e)
		l.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return l, srv.URL
}

// of returns the data of each event of typ so far.
func (l *eventLog) of(typ string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, e := range l.got {
		if e.Type == typ {
			out = append(out, e.Data)
		}
	}
	return out
}

// What Parley does by itself is announced like what agents do: an automatic
// assignment is conversation.assigned and an automatic close
// conversation.closed, both "by" 0 (Parley).
func TestEventsOfAutomaticChanges(t *testing.T) {
	t.Parallel()
	r := dispatchEnv(t, newYork(t, "2026-03-04 11:00"))
	ctx := context.Background()
	log, url := newEventLog(t)
	if _, err := r.App.Hooks.Create(ctx, r.Brand.ID, url, []string{hooks.ConversationAssigned, hooks.ConversationClosed}); err != nil {
		t.Fatal(err)
	}
	r.settings(t, `{"assignment": "sticky_round_robin", "auto_close_after_seconds": 600}`)
	agent, err := r.Store.UpsertUser(ctx, "ana@example.com", "x", "agent")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Store.SetPresence(ctx, agent.ID, "online"); err != nil {
		t.Fatal(err)
	}
	const phone = "+12125550601"
	r.text(t, phone, "Hello")
	apptest.WaitFor(t, 15*time.Second, "conversation.assigned delivered", func() bool { return len(log.of(hooks.ConversationAssigned)) > 0 })
	a := log.of(hooks.ConversationAssigned)[0]
	if a["assignee_id"] != float64(agent.ID) || a["assigned_by"] != float64(0) {
		t.Fatalf("conversation.assigned %v, want assignee %d by 0", a, agent.ID)
	}
	if _, err := r.Store.Pool.Exec(ctx, `UPDATE conversations c SET waiting_since = NULL, answered_at = now()
		FROM contact_phones p WHERE p.contact_id = c.contact_id AND p.phone = $1`, phone); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(int64(11 * time.Minute))
	apptest.WaitFor(t, 15*time.Second, "conversation.closed delivered", func() bool { return len(log.of(hooks.ConversationClosed)) > 0 })
	c := log.of(hooks.ConversationClosed)[0]
	if c["closed_by"] != float64(0) || c["conversation_id"] != a["conversation_id"] {
		t.Fatalf("conversation.closed %v, want conversation %v by 0", c, a["conversation_id"])
	}
}
