package conversation

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// engagementLock is the advisory lock of the engagement refresh: one
// instance recomputes the scores at a time.
const engagementLock = 7_300_022

// Engagement keeps the power users' scores current: every Every, one
// instance recomputes them from the last 90 days of texts.
type Engagement struct {
	st    *store.Store
	log   *slog.Logger
	Every time.Duration
	last  time.Time
}

// NewEngagement returns the refresher (every 5 minutes).
func NewEngagement(st *store.Store, log *slog.Logger) *Engagement {
	return &Engagement{st: st, log: log, Every: 5 * time.Minute}
}

// MaybeRefresh refreshes when Every has passed since this process last did.
func (e *Engagement) MaybeRefresh(ctx context.Context) {
	if !e.last.IsZero() && time.Since(e.last) < e.Every {
		return
	}
	e.last = time.Now()
	if _, err := e.st.WithJobLock(ctx, engagementLock, func(ctx context.Context) error {
		_, err := e.st.RefreshEngagement(ctx)
		return err
	}); err != nil && ctx.Err() == nil {
		e.log.Warn("engagement refresh failed; retrying later", "err", err)
	}
}

// Why says in words what a power user's score is made of.
func Why(p store.PowerUser, now time.Time) string {
	s := fmt.Sprintf("%d texts in 90 days", p.TextsIn)
	if p.BrandTexts > 0 {
		s += fmt.Sprintf(", answered %d of %d of our texts (%.0f%%)", min(p.Replies, p.BrandTexts), p.BrandTexts, p.ResponseRate*100)
	}
	if p.LastInboundAt != nil {
		switch d := now.Sub(*p.LastInboundAt); {
		case d < 24*time.Hour:
			s += ", wrote today"
		default:
			s += fmt.Sprintf(", last wrote %d days ago", int(d/(24*time.Hour)))
		}
	}
	if p.Followers > 0 {
		s += fmt.Sprintf(", %d followers", p.Followers)
	}
	return s
}
