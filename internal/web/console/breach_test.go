package console_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/automation"
)

// A missed response target is announced live to the admins, whatever page
// they have open (their stream), and to nobody else.
func TestBreachAnnouncedToAdmins(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	env, users := setupWith(t, apptest.Options{Worker: true, App: func(o *app.Options) {
		o.Now = func() time.Time { return time.Unix(0, clock.Load()) }
		o.DispatchEvery = 50 * time.Millisecond
	}})
	if _, err := automation.NewService(env.Store, env.App.Routing).PutSettings(context.Background(), env.Brand,
		[]byte(`{"first_response_sla_seconds": 120}`)); err != nil {
		t.Fatal(err)
	}
	admin, _ := signedIn(t, env, users, "admin")
	agent, _ := signedIn(t, env, users, "agent")
	adminEvents, agentEvents := eventStream(t, admin, ""), eventStream(t, agent, "")

	first := text(t, env, "SM00000000000000000000000000000b01", "+12125550901", "Is anyone there?")
	clock.Add(int64(3 * time.Minute))
	if e := next(t, adminEvents, "the breach announced to the admin", func(e sse) bool { return e.kind == "breach" }, nil); e.data != fmt.Sprintf(`{"id":%d}`, first) {
		t.Fatalf("breach event %+v, want conversation %d", e, first)
	}

	// Events reach a stream in the order they happened: the agent hears of
	// a later text, and of no breach before it.
	second := text(t, env, "SM00000000000000000000000000000b02", "+12125550902", "Hello")
	next(t, agentEvents, "the later text", func(e sse) bool { return e.kind == "conversation" && e.data == fmt.Sprintf(`{"id":%d}`, second) },
		func(e sse) {
			if e.kind == "breach" {
				t.Errorf("an agent was told of a breach: %+v", e)
			}
		})
}
