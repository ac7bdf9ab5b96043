package campaign

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

// Runner starts scheduled campaigns and fans running ones out, in every
// worker process: a campaign's start and each fan-out batch lock its row
// (skipping a row another process holds), so two processes never handle
// the same recipients.
type Runner struct {
	svc *Service
	log *slog.Logger
	// Batch is how many recipients one transaction fans out; Window how
	// many texts due within a minute may wait unsent before the fan-out
	// waits (so a pause has little to stop).
	Batch, Window int
	// Hooks emits campaign.completed to the brand's webhooks (nil: none).
	Hooks   *hooks.Service
	checked map[int64]time.Time // when each campaign's failure share was last checked
	// stored counts the texts this process fanned out since the campaign
	// tables' statistics were last refreshed.
	stored int
	// fresh holds the running campaigns this process has refreshed the
	// statistics for since it first saw them running.
	fresh map[int64]bool
}

// analyzeEvery is how many fanned-out texts make the runner refresh the
// statistics of the tables a campaign grows: autovacuum's analyze lags a
// bulk fan-out, and on statistics that still see a small messages table
// the sender's statements were planned as scans of every text (a
// 1,000,000-recipient campaign fell from about 3,500 to 700 sends/s
// halfway through).
//
// Each process also refreshes them the first time it sees a campaign
// running: the recipients just materialised look like none to the planner,
// and the fan-out's statements hashed every pending recipient for each
// batch of 1,000 (65 ms a batch at 100,000).
const analyzeEvery = 50_000

// NewRunner returns a runner over the service.
func NewRunner(svc *Service, log *slog.Logger) *Runner {
	return &Runner{svc: svc, log: log, Batch: 1000, Window: 5000, checked: map[int64]time.Time{}, fresh: map[int64]bool{}}
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
		}
	}
}

// failCheckEvery is how often a running campaign's failure share is
// compared with its threshold.
const failCheckEvery = 5 * time.Second

// minFinalForThreshold: the threshold applies once this many sends ended.
const minFinalForThreshold = 20

// Pass starts what is due and fans out what runs.
func (r *Runner) Pass(ctx context.Context) {
	cs, err := r.svc.st.ActiveCampaigns(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("campaigns: not loaded", "err", err)
		}
		return
	}
	now := r.svc.Now()
	for _, c := range cs {
		if c.State == "scheduled" {
			if c.ScheduledAt != nil && c.ScheduledAt.After(now) {
				continue
			}
			if err := r.start(ctx, c); err != nil {
				r.log.Warn("campaigns: start failed", "campaign_id", c.ID, "err", err)
				continue
			}
		}
		if !r.fresh[c.ID] {
			r.fresh[c.ID] = true
			r.refreshStats(ctx)
		}
		n, err := r.fanOut(ctx, c)
		if r.stored += n; r.stored >= analyzeEvery {
			r.refreshStats(ctx)
		}
		if err != nil && ctx.Err() == nil {
			r.log.Warn("campaigns: fan-out failed", "campaign_id", c.ID, "err", err)
			continue
		}
		if now.Sub(r.checked[c.ID]) >= failCheckEvery {
			r.checked[c.ID] = now
			r.checkFailures(ctx, c)
		}
		if done, err := r.svc.st.CompleteCampaign(ctx, c.ID); err == nil && done {
			delete(r.checked, c.ID)
			delete(r.fresh, c.ID)
			r.log.Info("campaign completed", "campaign_id", c.ID)
			r.Hooks.CampaignCompleted(ctx, c.BrandID, c.ID, c.Name)
		}
	}
}

// refreshStats refreshes the statistics of the campaign tables (see
// analyzeEvery); a failure only costs speed.
func (r *Runner) refreshStats(ctx context.Context) {
	r.stored = 0
	if err := r.svc.st.AnalyzeCampaignTables(ctx); err != nil && ctx.Err() == nil {
		r.log.Warn("campaigns: statistics not refreshed", "err", err)
	}
}

func (r *Runner) start(ctx context.Context, c store.Campaign) error {
	// A stored audience's phones are E.164 already (Create normalised
	// them), so the brand's default country is not needed to read it.
	aud, err := r.svc.audience(ctx, store.Brand{ID: c.BrandID}, c.Audience)
	if err != nil {
		// An audience that no longer reads (its segment deleted) pauses the
		// campaign with the reason rather than retrying forever.
		_ = r.svc.st.PauseCampaign(ctx, c.ID, "audience: "+err.Error())
		return err
	}
	n, started, err := r.svc.st.StartCampaign(ctx, c.ID, aud, len(c.Variants))
	if err == nil && started {
		r.log.Info("campaign started", "campaign_id", c.ID, "recipients", n)
	}
	return err
}

// fanOut stores texts for pending recipients, batch by batch, while fewer
// than Window of the campaign's texts wait to go.
func (r *Runner) fanOut(ctx context.Context, c store.Campaign) (stored int, err error) {
	b, err := r.svc.st.BrandBySlug(ctx, c.BrandSlug)
	if err != nil {
		return stored, err
	}
	numbers := c.Numbers
	if len(numbers) == 0 {
		for _, n := range b.Numbers {
			numbers = append(numbers, n.Number)
		}
	}
	if len(numbers) == 0 {
		return stored, r.svc.st.PauseCampaign(ctx, c.ID, "the brand has no sender number")
	}
	tpls, err := parseAll(c.Variants)
	if err != nil {
		return stored, r.svc.st.PauseCampaign(ctx, c.ID, "a variant no longer parses: "+err.Error())
	}
	var of time.Duration
	if c.LocalTime != "" {
		of, _ = parseClock(c.LocalTime)
	}
	start := r.svc.Now()
	if c.ScheduledAt != nil && c.ScheduledAt.After(start) {
		start = *c.ScheduledAt
	}
	// The texts still waiting are counted once a pass, not once a batch:
	// the count reads every unsent text of the campaign (72 ms a call at
	// 100,000 recipients, a sixth of the fan-out's database time).
	waiting, err := r.svc.st.CampaignInFlight(ctx, c.ID, time.Minute)
	if err != nil {
		return stored, err
	}
	for budget := r.Window - waiting; budget > 0; {
		texts, handled, err := r.svc.st.FanOut(ctx, c.ID, min(r.Batch, budget), func(c store.Campaign, rs []store.Recipient) ([]store.Outgoing, error) {
			out := make([]store.Outgoing, len(rs))
			for i, rc := range rs {
				out[i] = r.compose(c, b, rc, tpls, numbers, of, start)
			}
			return out, nil
		})
		if err != nil {
			return stored, err
		}
		r.svc.enqueue(ctx, texts)
		stored += len(texts)
		budget -= handled
		if handled < r.Batch || ctx.Err() != nil {
			return stored, nil
		}
	}
	return stored, nil
}

// compose decides one recipient's text: the variant's body filled for
// them (links tracked when the campaign says so), its sender number
// (always the same one for a phone), and its time.
func (r *Runner) compose(c store.Campaign, b store.Brand, rc store.Recipient, tpls []*personalize.Renderer, numbers []string,
	localTime time.Duration, start time.Time) store.Outgoing {
	o := store.Outgoing{ContactID: rc.ContactID}
	if rc.Merged {
		o.Skip = "merged into another contact after the campaign started"
		return o
	}
	var links []store.Link
	link := func(u string) string { return u }
	if c.TrackLinks {
		link = func(u string) string {
			code := newCode()
			links = append(links, store.Link{Code: code, URL: u})
			return r.svc.publicURL + "/l/" + code
		}
	}
	v := rc.Variant
	if v < 0 || v >= len(tpls) {
		v = 0
	}
	body, err := tpls[v].Render(dataOf(rc), link)
	body = strings.TrimSpace(body)
	if o.Skip = unsendable(body, err); o.Skip != "" {
		return o
	}
	o.Body, o.Links = body, links
	o.Segments, o.Encoding = segment.Count(body)
	o.From = numbers[pick(rc.Phone, len(numbers))]
	if c.LocalTime != "" {
		loc, _ := r.svc.zones.Resolve(rc.Timezone, rc.Phone, b.Timezone)
		at := NextLocal(start, loc, localTime)
		o.SendAt = &at
	} else if start.After(r.svc.Now()) {
		o.SendAt = &start
	}
	return o
}

// checkFailures pauses a campaign whose sends fail more than its threshold
// allows (a bad number, a carrier refusing the content), with the reason.
func (r *Runner) checkFailures(ctx context.Context, c store.Campaign) {
	if c.FailThreshold <= 0 {
		return
	}
	rs, err := r.svc.st.CampaignCounts(ctx, c.ID, len(c.Variants))
	if err != nil {
		return
	}
	t := Totals(rs)
	final := t["sent"] + t["delivered"] + t["failed"]
	if final < minFinalForThreshold {
		return
	}
	if share := float64(t["failed"]) / float64(final); share > c.FailThreshold {
		reason := fmt.Sprintf("%d of %d sends failed (%.0f%%), above the campaign's %.0f%% threshold",
			t["failed"], final, share*100, c.FailThreshold*100)
		if err := r.svc.st.PauseCampaign(ctx, c.ID, reason); err == nil {
			r.log.Warn("campaign paused for failures", "campaign_id", c.ID, "reason", reason)
		}
	}
}

// codeBytes: 9 random bytes, 12 characters: unguessable (72 bits).
const codeBytes = 9

func newCode() string {
	b := make([]byte, codeBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func validCode(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// pick is the index in [0, n) a phone always gets (its sender number).
func pick(phone string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(phone))
	return int(h.Sum32() % uint32(n)) //nolint:gosec // G115: n is a count of numbers, far below 2^32
}
