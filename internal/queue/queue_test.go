package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// An overdue message whose task asynq reports active gets a second task
// beside it (one per five minutes); a message with no task gets its own.
func TestReviveSendBesideAnActiveTask(t *testing.T) {
	_, rdb := setup(t)
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	ns := "qt" + hex.EncodeToString(b) + ":"
	c := NewClient(rdb, ns)
	release := make(chan struct{})
	started := make(chan int64, 8)
	srv := NewServer(rdb, ServerConfig{Concurrency: 4, Namespace: ns, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		func(ctx context.Context, p SendPayload, _ Attempt) error {
			started <- p.MessageID
			<-release
			return nil
		}, func(context.Context, BatchPayload, Attempt) error { return nil })
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(release); srv.Shutdown() })
	if err := c.EnqueueSend(ctx, SendPayload{MessageID: 7, From: "+15005550006"}, Replies, time.Time{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the task never ran")
	}
	if got := c.TaskState(Replies, 7); got != asynq.TaskStateActive.String() {
		t.Fatalf("task state %s, want active", got)
	}
	if ok, err := c.EnsureSend(ctx, SendPayload{MessageID: 7}, Replies, time.Time{}); ok || err != nil {
		t.Fatalf("EnsureSend beside an active task: %v %v; want nothing enqueued", ok, err)
	}
	if ok, err := c.ReviveSend(ctx, SendPayload{MessageID: 7}, Replies, time.Time{}); !ok || err != nil {
		t.Fatalf("ReviveSend beside an active task: %v %v; want a second task", ok, err)
	}
	if ok, _ := c.ReviveSend(ctx, SendPayload{MessageID: 7}, Replies, time.Time{}); ok {
		t.Fatal("a third task within five minutes")
	}
	select {
	case id := <-started:
		if id != 7 {
			t.Fatalf("the second task is for message %d", id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the second task never ran")
	}
	if ok, err := c.ReviveSend(ctx, SendPayload{MessageID: 8}, Replies, time.Time{}); !ok || err != nil {
		t.Fatalf("ReviveSend with no task: %v %v; want one", ok, err)
	}
}
