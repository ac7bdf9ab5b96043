package trigger

import (
	"context"
	"log/slog"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// Enqueuer hands stored texts to the send queue (outbound.Outbox).
type Enqueuer interface {
	Enqueue(ctx context.Context, messageID int64, from, queue string)
}

// Runner sends the runs that are due, in every worker process: each batch
// locks its runs (skipping those another process holds) and stores their
// texts and outcomes in one transaction, so a run sends at most once.
type Runner struct {
	svc   *Service
	out   Enqueuer
	log   *slog.Logger
	Batch int
	// Dates evaluates the date rules (one instance at a time).
	Dates *Dates
	// Extra passes run after each pass (the answer processor).
	Extra []func(context.Context)
}

// NewRunner returns a runner.
func NewRunner(svc *Service, out Enqueuer, log *slog.Logger) *Runner {
	return &Runner{svc: svc, out: out, log: log, Batch: 500}
}

// Run passes every `every` until ctx is done.
func (r *Runner) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Pass(ctx)
			for _, f := range r.Extra {
				f(ctx)
			}
			if r.Dates != nil {
				r.Dates.MaybePass(ctx)
			}
		}
	}
}

// Pass fires every run due now, a batch at a time; it returns how many it
// handled.
func (r *Runner) Pass(ctx context.Context) int {
	total := 0
	for ctx.Err() == nil {
		now := r.svc.Now()
		fired, n, err := r.svc.st.FireRuns(ctx, now, r.Batch, func(due []store.DueRun) []store.RunOutcome {
			out := make([]store.RunOutcome, 0, len(due))
			reloaded := false
			for _, d := range due {
				rule, err := r.svc.Book.Rule(ctx, d.TriggerID)
				if err == nil && (rule == nil || !rule.Enabled) && !reloaded {
					// This process's book may be up to CheckEvery behind: a rule
					// saved or switched on in another process a moment ago, with
					// its event already here, must not be skipped for good as
					// "switched off". Ask the database once per batch.
					r.svc.Book.Invalidate()
					reloaded = true
					rule, err = r.svc.Book.Rule(ctx, d.TriggerID)
				}
				if err != nil {
					// Without the rule book nothing can be judged: leave the run
					// for the next pass by not answering for it.
					r.log.Warn("trigger rules could not be read", "err", err)
					return nil
				}
				loc, _ := r.svc.zones.Resolve(d.Timezone, d.Phone, d.BrandTimezone)
				out = append(out, Decide(rule, d, now, loc))
			}
			return out
		})
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("trigger runs failed; retrying next pass", "err", err)
			}
			return total
		}
		for _, f := range fired {
			r.out.Enqueue(ctx, f.MessageID, f.From, f.Queue)
		}
		total += n
		if n < r.Batch {
			return total
		}
	}
	return total
}
