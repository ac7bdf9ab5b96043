// Package queue is Parley's asynq side: enqueueing send tasks by message id,
// the worker server with its three priority queues, and the per-number rate
// limiter every worker process shares through Redis.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Queue names, by priority: a person waiting for an answer, then one-to-one
// proactive texts, then campaigns.
const (
	Replies   = "replies"
	Proactive = "proactive"
	Bulk      = "bulk"
)

// TypeSend is the task that sends one outbound message.
const TypeSend = "message:send"

// SendPayload identifies the message; everything else is read from Postgres
// when the task runs, so a task never carries stale content.
type SendPayload struct {
	MessageID int64  `json:"id"`
	From      string `json:"from,omitempty"` // the sender number: the rate limiter runs before any query
	Queue     string `json:"queue,omitempty"`
}

// TaskID is the asynq task id of a message — its id — so there is one task
// per message at a time, and an enqueue that finds it is not a duplicate.
func TaskID(messageID int64) string { return strconv.FormatInt(messageID, 10) }

// Client enqueues send tasks.
type Client struct {
	c   *asynq.Client
	rdb redis.UniversalClient
	ns  string
}

// NewClient wraps rdb (shared with the rest of the process). namespace
// prefixes the asynq queue names ("" in production), so that tests sharing one
// Redis never take each other's tasks.
func NewClient(rdb redis.UniversalClient, namespace string) *Client {
	return &Client{c: asynq.NewClientFromRedisClient(rdb), rdb: rdb, ns: namespace}
}

// markerKey is the key whose absence tells the relay that Redis lost its data.
func (c *Client) markerKey() string { return "parley:" + c.ns + "queue-marker" }

// QueueLost reports whether Redis has lost the queue since SetQueueMarker:
// the marker is missing (a flush, a new or failed-over Redis without its data).
func (c *Client) QueueLost(ctx context.Context) (bool, error) {
	n, err := c.rdb.Exists(ctx, c.markerKey()).Result()
	if err != nil {
		return false, fmt.Errorf("queue: marker: %w", err)
	}
	return n == 0, nil
}

// SetQueueMarker records that every queued message has its task, after a
// complete sweep, so that a later loss of the queue can be noticed.
func (c *Client) SetQueueMarker(ctx context.Context) error {
	if err := c.rdb.Set(ctx, c.markerKey(), time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return fmt.Errorf("queue: marker: %w", err)
	}
	return nil
}

// EnqueueSend queues the send task of a message on queue, not before at. A
// task already queued for the message is not an error: that is the relay
// finding work that was never lost.
func (c *Client) EnqueueSend(ctx context.Context, p SendPayload, queueName string, at time.Time) error {
	p.Queue = queueName
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	opts := []asynq.Option{asynq.TaskID(TaskID(p.MessageID)), asynq.Queue(c.ns + queueName), asynq.MaxRetry(20),
		asynq.Timeout(2 * time.Minute)}
	if !at.IsZero() && at.After(time.Now()) {
		opts = append(opts, asynq.ProcessAt(at))
	}
	_, err = c.c.EnqueueContext(ctx, asynq.NewTask(TypeSend, b), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("queue: enqueue message %d: %w", p.MessageID, err)
	}
	return nil
}
