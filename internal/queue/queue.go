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

// TypeSendBatch is the grouped task that sends up to BatchSize bulk texts of
// one sender number.
const TypeSendBatch = "message:send-batch"

// BatchSize is the most texts one grouped task carries.
const BatchSize = 64

// SendPayload identifies the message; everything else is read from Postgres
// when the task runs, so a task never carries stale content.
type SendPayload struct {
	MessageID int64  `json:"id"`
	From      string `json:"from,omitempty"` // the sender number: the rate limiter runs before any query
	Queue     string `json:"queue,omitempty"`
	// TaskKey names the grouped task that carries the message, if any; the
	// relay's checks ask for it first. Not part of the task.
	TaskKey string `json:"-"`
}

// BatchPayload is a grouped task: texts of one sender number, sent in id
// order, each claimed just before its own slot.
type BatchPayload struct {
	IDs   []int64 `json:"ids"`
	From  string  `json:"from"`
	Queue string  `json:"queue,omitempty"`
}

// BatchTaskID is the asynq task id of the grouped task of ids: "b" and its
// first id, which no other grouped task carries.
func BatchTaskID(ids []int64) string { return "b" + strconv.FormatInt(ids[0], 10) }

// TaskID is the asynq task id of a message — its id — so there is one task
// per message at a time, and an enqueue that finds it is not a duplicate.
func TaskID(messageID int64) string { return strconv.FormatInt(messageID, 10) }

// TaskTimeout is a send task's deadline: past it the handler's context ends,
// so no carrier call of that run starts later than TaskTimeout after the run
// began (one already started ends within its own timeout).
const TaskTimeout = 2 * time.Minute

// MaxRetry is how many failures asynq retries a send task after. The
// sender finishes a text itself well before (outbound.MaxSendAttempts); a
// task archived anyway is found by the relay.
const MaxRetry = 20

// Client enqueues send tasks.
type Client struct {
	c    *asynq.Client
	insp *asynq.Inspector
	rdb  redis.UniversalClient
	ns   string
}

// NewClient wraps rdb (shared with the rest of the process). namespace
// prefixes the asynq queue names ("" in production), so that tests sharing one
// Redis never take each other's tasks.
func NewClient(rdb redis.UniversalClient, namespace string) *Client {
	return &Client{c: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb), rdb: rdb, ns: namespace}
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
	_, err := c.enqueueAs(ctx, p, queueName, at, TaskID(p.MessageID))
	return err
}

// EnqueueBatch queues the grouped task of p.IDs (at most BatchSize, all from
// p.From) on queue, not before at, and returns its task id. One already
// queued under that id is not an error.
func (c *Client) EnqueueBatch(ctx context.Context, p BatchPayload, queueName string, at time.Time) (string, error) {
	if len(p.IDs) == 0 {
		return "", fmt.Errorf("queue: a grouped task carries 1 to %d texts, not 0", BatchSize)
	}
	return c.EnqueueBatchAs(ctx, p, queueName, at, BatchTaskID(p.IDs))
}

// EnqueueBatchAs is EnqueueBatch under the task id id.
func (c *Client) EnqueueBatchAs(ctx context.Context, p BatchPayload, queueName string, at time.Time, id string) (string, error) {
	if len(p.IDs) == 0 || len(p.IDs) > BatchSize {
		return "", fmt.Errorf("queue: a grouped task carries 1 to %d texts, not %d", BatchSize, len(p.IDs))
	}
	p.Queue = queueName
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	opts := []asynq.Option{asynq.TaskID(id), asynq.Queue(c.ns + queueName), asynq.MaxRetry(MaxRetry),
		asynq.Timeout(TaskTimeout)}
	if !at.IsZero() && at.After(time.Now()) {
		opts = append(opts, asynq.ProcessAt(at))
	}
	_, err = c.c.EnqueueContext(ctx, asynq.NewTask(TypeSendBatch, b), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return "", fmt.Errorf("queue: enqueue %d texts of %s: %w", len(p.IDs), p.From, err)
	}
	return id, nil
}

// batchState reads the state of the grouped task p.TaskKey: live (pending,
// scheduled, retrying or active), or not (none, archived, completed).
func (c *Client) batchState(qname string, p SendPayload) (asynq.TaskState, bool, error) {
	info, err := c.insp.GetTaskInfo(qname, p.TaskKey)
	switch {
	case err == nil:
		return info.State, info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted, nil
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		return 0, false, nil
	default:
		return 0, false, fmt.Errorf("queue: grouped task %s of message %d: %w", p.TaskKey, p.MessageID, err)
	}
}

// enqueueAs enqueues p under taskID; false when a task of that id exists.
func (c *Client) enqueueAs(ctx context.Context, p SendPayload, queueName string, at time.Time, taskID string) (bool, error) {
	p.Queue = queueName
	b, err := json.Marshal(p)
	if err != nil {
		return false, err
	}
	opts := []asynq.Option{asynq.TaskID(taskID), asynq.Queue(c.ns + queueName), asynq.MaxRetry(MaxRetry),
		asynq.Timeout(TaskTimeout)}
	if !at.IsZero() && at.After(time.Now()) {
		opts = append(opts, asynq.ProcessAt(at))
	}
	_, err = c.c.EnqueueContext(ctx, asynq.NewTask(TypeSend, b), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("queue: enqueue message %d: %w", p.MessageID, err)
	}
	return true, nil
}

// ReviveSend is EnsureSend for a message more than a minute past its time.
// There an active task is one asynq lost track of: a handler holds a queued
// message for seconds at most (a slot is never more than about one away),
// but after Redis lost its data mid-flight, a dead handler's late bookkeeping
// can leave its id marked active with nothing running it and nothing to
// recover it. A second task is then enqueued beside it under an id of its
// own, at most one per five minutes; a claim has one owner, so two tasks
// still send the text once.
//
// A message carried by a grouped task (p.TaskKey) is treated the same way:
// a pending, scheduled or retrying group is live; an active one gets the
// message a task of its own beside it, as above; a group that is gone
// leaves the message to the checks of its own task.
func (c *Client) ReviveSend(ctx context.Context, p SendPayload, queueName string, at time.Time) (bool, error) {
	if p.TaskKey != "" {
		state, live, err := c.batchState(c.ns+queueName, p)
		if err != nil {
			return false, err
		}
		if live && state != asynq.TaskStateActive {
			return false, nil
		}
		if live {
			return c.enqueueAs(ctx, p, queueName, at, TaskID(p.MessageID)+"~"+strconv.FormatInt(time.Now().Unix()/300, 10))
		}
	}
	info, err := c.insp.GetTaskInfo(c.ns+queueName, TaskID(p.MessageID))
	if err == nil && info.State == asynq.TaskStateActive {
		return c.enqueueAs(ctx, p, queueName, at, TaskID(p.MessageID)+"~"+strconv.FormatInt(time.Now().Unix()/300, 10))
	}
	return c.EnsureSend(ctx, p, queueName, at)
}

// EnsureSend makes sure the message has a live task on queueName, and reports
// whether it had to enqueue one. Pending, scheduled, retrying and active
// tasks are live (an active one whose worker died comes back as a retry when
// its lease expires). An archived task (its retries exhausted) or a completed
// one is not: it is deleted, so that its TaskID — the message id — can be
// used again, and a new task is enqueued, due at at. So is a missing one (lost
// in a Redis failover, or a retry asynq no longer has). A message carried by
// a live grouped task (p.TaskKey) has its task.
func (c *Client) EnsureSend(ctx context.Context, p SendPayload, queueName string, at time.Time) (bool, error) {
	qname, id := c.ns+queueName, TaskID(p.MessageID)
	if p.TaskKey != "" {
		if _, live, err := c.batchState(qname, p); err != nil || live {
			return false, err
		}
	}
	info, err := c.insp.GetTaskInfo(qname, id)
	switch {
	case err == nil && (info.State == asynq.TaskStateArchived || info.State == asynq.TaskStateCompleted):
		if err := c.insp.DeleteTask(qname, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return false, fmt.Errorf("queue: delete the %s task of message %d: %w", info.State, p.MessageID, err)
		}
	case err == nil:
		return false, nil
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
	default:
		return false, fmt.Errorf("queue: task of message %d: %w", p.MessageID, err)
	}
	if err := c.EnqueueSend(ctx, p, queueName, at); err != nil {
		return false, err
	}
	return true, nil
}

// TaskState says what asynq holds for message's task on queueName ("none"
// when it holds nothing), for diagnostics.
func (c *Client) TaskState(queueName string, messageID int64) string {
	info, err := c.insp.GetTaskInfo(c.ns+queueName, TaskID(messageID))
	if err != nil {
		return "none (" + err.Error() + ")"
	}
	return info.State.String()
}

// QueueStat is one queue's backlog as asynq reports it.
type QueueStat struct {
	Name                                      string
	Pending, Active, Scheduled, Retry, Failed int
	Latency                                   time.Duration // age of the oldest pending task
}

// Stats reports Replies, Proactive and Bulk (a queue nothing was ever
// enqueued to reports zeros).
func (c *Client) Stats() []QueueStat {
	var out []QueueStat
	for _, q := range []string{Replies, Proactive, Bulk} {
		st := QueueStat{Name: q}
		if info, err := c.insp.GetQueueInfo(c.ns + q); err == nil {
			st.Pending, st.Active, st.Scheduled, st.Retry, st.Failed = info.Pending, info.Active, info.Scheduled, info.Retry, info.Archived
			st.Latency = info.Latency
		}
		out = append(out, st)
	}
	return out
}
