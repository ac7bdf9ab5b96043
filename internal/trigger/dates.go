package trigger

import (
	"context"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// dateJobLock is the advisory lock key of the date-rule pass: one instance
// evaluates them at a time.
const dateJobLock = 7_300_021

// Dates evaluates date rules: about once a minute, one instance (advisory
// lock) finds, for each rule, the people whose occurrence's local time has
// come in the last expire_after, and schedules one run per person and
// occurrence. Every time zone is covered as its day starts; a pass after
// downtime catches up on occurrences that have not yet expired, and the
// unique (rule, person, occurrence) index keeps it from doubling any.
type Dates struct {
	svc   *Service
	Every time.Duration
	last  time.Time
}

// NewDates returns the date-rule evaluator.
func NewDates(svc *Service) *Dates { return &Dates{svc: svc, Every: time.Minute} }

// MaybePass passes when Every has gone by since the last pass.
func (d *Dates) MaybePass(ctx context.Context) {
	if !d.last.IsZero() && time.Since(d.last) < d.Every {
		return
	}
	d.last = time.Now()
	if _, err := d.svc.st.WithJobLock(ctx, dateJobLock, func(ctx context.Context) error {
		_, err := d.Pass(ctx)
		return err
	}); err != nil && ctx.Err() == nil {
		d.svc.Log.Warn("date rules failed; retrying next pass", "err", err)
	}
}

// Pass evaluates every date rule at the service's now; it returns the runs
// it scheduled.
func (d *Dates) Pass(ctx context.Context) (int64, error) {
	rules, err := d.svc.Book.DateRules(ctx)
	if err != nil {
		return 0, err
	}
	now := d.svc.Now()
	var total int64
	for _, r := range rules {
		b, err := d.svc.st.BrandByID(ctx, r.BrandID)
		if err != nil {
			return total, err
		}
		monthDays, dates := dateKeys(r, now)
		var after int64
		for {
			cs, err := d.svc.st.DateCandidates(ctx, r.BrandID, r.Date.Attribute, monthDays, dates, after, 1000)
			if err != nil {
				return total, err
			}
			var runs []store.DateRun
			for _, c := range cs {
				after = c.ContactID
				loc, _ := d.svc.zones.Resolve(c.Timezone, c.Phone, b.Timezone)
				if occ, due, ok := r.Occurrence(c.Value, now, loc); ok {
					runs = append(runs, store.DateRun{ContactID: c.ContactID, Occurrence: occ, DueAt: due, Expires: due.Add(r.Expire)})
				}
			}
			n, err := d.svc.st.InsertDateRuns(ctx, r.ID, r.BrandID, runs)
			if err != nil {
				return total, err
			}
			total += n
			if len(cs) < 1000 {
				break
			}
		}
	}
	return total, nil
}

// dateKeys are the attribute dates that may have an occurrence due around
// now in some time zone: the local days from now-expire-1 to now+1, moved
// back by the offset, as "MM-DD" (yearly; 02-29 counts on 02-28 of a year
// without it) or "YYYY-MM-DD" (once).
func dateKeys(r *Rule, now time.Time) (monthDays, dates []string) {
	days := int(r.Expire/(24*time.Hour)) + 2
	seen := map[string]bool{}
	for i := -days; i <= 1; i++ {
		t := now.UTC().AddDate(0, 0, i-r.Date.OffsetDays)
		if r.Date.Once {
			dates = append(dates, t.Format("2006-01-02"))
			continue
		}
		for _, k := range []string{t.Format("01-02")} {
			if !seen[k] {
				seen[k] = true
				monthDays = append(monthDays, k)
			}
		}
		if t.Month() == time.February && t.Day() == 28 && !leap(t.Year()) && !seen["02-29"] {
			seen["02-29"] = true
			monthDays = append(monthDays, "02-29")
		}
	}
	if monthDays == nil {
		monthDays = []string{}
	}
	if dates == nil {
		dates = []string{}
	}
	return monthDays, dates
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// Occurrence says whether a date rule is due for a person whose attribute
// holds value, at now in loc: the occurrence's day (the key that makes it
// happen once), and its local time, when that time has come and not yet
// expired. A yearly rule's occurrence is the anniversary in the local year
// (or the one before or after, near new year); 29 February falls on 28
// February in other years.
func (r *Rule) Occurrence(value string, now time.Time, loc *time.Location) (occ string, due time.Time, ok bool) {
	if len(value) < 10 {
		return "", time.Time{}, false
	}
	base, err := time.Parse("2006-01-02", value[:10])
	if err != nil {
		return "", time.Time{}, false
	}
	h, m, _ := parseClock(r.Date.AtLocal)
	at := func(y int, mo time.Month, d int) time.Time {
		day := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.Date.OffsetDays)
		return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
	}
	var cands []time.Time
	if r.Date.Once {
		cands = []time.Time{at(base.Year(), base.Month(), base.Day())}
	} else {
		y := now.In(loc).Year()
		for _, yy := range []int{y - 1, y, y + 1} {
			mo, d := base.Month(), base.Day()
			if mo == time.February && d == 29 && !leap(yy) {
				d = 28
			}
			cands = append(cands, at(yy, mo, d))
		}
	}
	for _, t := range cands {
		if !now.Before(t) && now.Before(t.Add(r.Expire)) {
			return t.Format("2006-01-02"), t, true
		}
	}
	return "", time.Time{}, false
}
