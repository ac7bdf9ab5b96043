// Package audit records who did what: every person's action in the console
// (sign-in, sign-out, failed sign-ins with the email tried, each change)
// and every API write with its key's name, append-only, with before/after
// where the action has them, the client's address and the request id.
// What an action is called and what it acted on are pure functions of the
// route, so the web layer stays a thin caller.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// Actor types.
const (
	User      = "user"
	APIKey    = "api_key"
	Anonymous = "anonymous"
	System    = "system"
)

// Entry is one action to record.
type Entry struct {
	ActorType, Actor string
	ActorID          int64 // 0 when unknown
	Action, Target   string
	BrandID          int64 // 0 when the action is not one brand's
	Before, After    any   // nil when the action has none
	Detail           map[string]any
	Status           int
	IP, RequestID    string
}

// Recorder appends entries to the log.
type Recorder struct {
	st  *store.Store
	log *slog.Logger
}

// NewRecorder returns a recorder over st.
func NewRecorder(st *store.Store, log *slog.Logger) *Recorder { return &Recorder{st: st, log: log} }

// Record appends e. The action has already happened, so a failure to
// record is logged (as the entry itself, so that nothing is lost from the
// process's log) rather than undoing it.
func (r *Recorder) Record(ctx context.Context, e Entry) {
	if r == nil {
		return
	}
	row := store.AuditEntry{ActorType: e.ActorType, Actor: e.Actor, Action: e.Action, Target: e.Target, Status: e.Status,
		IP: e.IP, RequestID: e.RequestID}
	if e.ActorID != 0 {
		row.ActorID = &e.ActorID
	}
	if e.BrandID != 0 {
		row.BrandID = &e.BrandID
	}
	row.Before, row.After, row.Detail = marshal(e.Before), marshal(e.After), marshal(e.Detail)
	// The request may be over (a client gone) but the action it asked for
	// was done: the entry is still written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.st.InsertAudit(ctx, row); err != nil {
		r.log.Error("audit: entry not stored", "err", err, "actor", e.Actor, "action", e.Action, "target", e.Target,
			"ip", e.IP, "request_id", e.RequestID)
	}
}

func marshal(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{"unrecorded": "` + strings.ReplaceAll(err.Error(), `"`, `'`) + `"}`)
	}
	return b
}

// Pruner deletes entries older than the retention, at most once per
// interval; a retention of 0 keeps everything (the default).
type Pruner struct {
	st        *store.Store
	log       *slog.Logger
	retention time.Duration
	mu        sync.Mutex
	last      time.Time
}

// NewPruner returns a pruner keeping retention (0: forever).
func NewPruner(st *store.Store, log *slog.Logger, retention time.Duration) *Pruner {
	return &Pruner{st: st, log: log, retention: retention}
}

// MaybePrune prunes when an hour has passed since the last pass; one
// instance does it (job lock).
func (p *Pruner) MaybePrune(ctx context.Context) {
	if p == nil || p.retention <= 0 {
		return
	}
	p.mu.Lock()
	if time.Since(p.last) < time.Hour {
		p.mu.Unlock()
		return
	}
	p.last = time.Now()
	p.mu.Unlock()
	_, err := p.st.WithJobLock(ctx, jobLock, func(ctx context.Context) error {
		n, err := p.st.PruneAudit(ctx, time.Now().Add(-p.retention))
		if n > 0 {
			p.log.Info("audit: pruned entries past retention", "deleted", n, "retention", p.retention.String())
		}
		return err
	})
	if err != nil {
		p.log.Error("audit: prune failed", "err", err)
	}
}

// jobLock is the advisory lock key of the retention pass.
const jobLock = 7_300_024
