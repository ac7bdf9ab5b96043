package routing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Interval is one stretch of opening on a day, in minutes after local
// midnight: From inclusive, To exclusive; To may be 1440 (24:00).
type Interval struct{ From, To int }

// Holiday replaces one date's weekly hours: closed when Hours is empty,
// special hours otherwise.
type Holiday struct {
	Date  string // 2006-01-02, in the brand's time zone
	Name  string
	Hours []Interval
}

// Hours is a brand's opening schedule in its time zone. The zero value (no
// schedule set) is always open; a schedule whose every day is empty, with no
// holiday hours, is always closed.
type Hours struct {
	Set      bool
	Loc      *time.Location
	Week     [7][]Interval // by time.Weekday: Sunday first
	Holidays map[string]Holiday
}

// Days are the schedule's day names, Monday first, as the API writes them.
var Days = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var dayIndex = map[string]time.Weekday{"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday}

// ParseClock reads "09:00" (00:00 to 24:00) as minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM, 00:00 to 24:00)", s)
	}
	return hh*60 + mm, nil
}

// FormatClock writes minutes after midnight as "09:00".
func FormatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// ParseIntervals reads [["09:00","12:00"],["14:00","18:00"]]: each a start
// before its end, sorted, none overlapping. field names the list in errors.
func ParseIntervals(field string, raw [][]string) ([]Interval, error) {
	out := make([]Interval, 0, len(raw))
	for i, pair := range raw {
		f := fmt.Sprintf("%s[%d]", field, i)
		if len(pair) != 2 {
			return nil, fieldErr(f, "an interval is [\"HH:MM\", \"HH:MM\"]")
		}
		from, err := ParseClock(pair[0])
		if err != nil {
			return nil, fieldErr(f, "%v", err)
		}
		to, err := ParseClock(pair[1])
		if err != nil {
			return nil, fieldErr(f, "%v", err)
		}
		if from >= to {
			return nil, fieldErr(f, "%s–%s ends before it starts", pair[0], pair[1])
		}
		out = append(out, Interval{from, to})
	}
	slices.SortFunc(out, func(a, b Interval) int { return a.From - b.From })
	for i := 1; i < len(out); i++ {
		if out[i].From < out[i-1].To {
			return nil, fieldErr(field, "%s–%s overlaps %s–%s", FormatClock(out[i].From), FormatClock(out[i].To),
				FormatClock(out[i-1].From), FormatClock(out[i-1].To))
		}
	}
	return out, nil
}

// on returns the intervals of the local date of t.
func (h Hours) on(t time.Time) []Interval {
	if hol, ok := h.Holidays[t.Format(time.DateOnly)]; ok {
		return hol.Hours
	}
	return h.Week[t.Weekday()]
}

func (h Hours) loc() *time.Location {
	if h.Loc == nil {
		return time.UTC
	}
	return h.Loc
}

// civilDay is noon of the local calendar day i days after (or before) t's.
// Noon, not midnight: in zones whose clocks jump at midnight (Santiago,
// Havana, Beirut…) a midnight may not exist, and Go would hand back 23:00
// of the day before, so the day's weekday and schedule would be wrong.
func civilDay(t time.Time, i int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+i, 12, 0, 0, 0, t.Location())
}

// at is the instant of minute min of the local date of day.
func at(day time.Time, min int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), min/60, min%60, 0, 0, day.Location())
}

// OpenAt reports whether the brand is open at t.
func (h Hours) OpenAt(t time.Time) bool {
	if !h.Set {
		return true
	}
	lt := t.In(h.loc())
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	for _, iv := range h.on(lt) {
		if sec >= iv.From*60 && sec < iv.To*60 {
			return true
		}
	}
	return false
}

// horizon is how far the schedule is searched for an opening or a closing.
const horizon = 400

// NextOpening is the first instant after t at which the brand opens; false
// when it never does within a year and more (every day empty).
func (h Hours) NextOpening(t time.Time) (time.Time, bool) {
	if !h.Set {
		return t, true
	}
	lt := t.In(h.loc())
	for i := 0; i < horizon; i++ {
		d := civilDay(lt, i)
		for _, iv := range h.on(d) {
			start := at(d, iv.From)
			// An interval that began at a midnight continues the day before's.
			continues := iv.From == 0 && h.OpenAt(start.Add(-time.Second))
			if start.After(t) && !continues {
				return start, true
			}
		}
	}
	return time.Time{}, false
}

// ClosedSince is when the closed period holding t began: the end of the last
// opening before t. Zero when there was none within a year (always closed).
func (h Hours) ClosedSince(t time.Time) time.Time {
	lt := t.In(h.loc())
	for i := 0; i < horizon; i++ {
		d := civilDay(lt, -i)
		ivs := h.on(d)
		for j := len(ivs) - 1; j >= 0; j-- {
			if end := at(d, ivs[j].To); !end.After(t) {
				return end
			}
		}
	}
	return time.Time{}
}

// DescribeOpening says when the brand opens, in the customer's own time and
// words: "from 9:00 today", "from 9:00 tomorrow", "from 14:30 on Monday",
// "from 9:00 on 2 January".
func DescribeOpening(open, now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	lo, ln := open.In(loc), now.In(loc)
	clock := fmt.Sprintf("%d:%02d", lo.Hour(), lo.Minute())
	today := time.Date(ln.Year(), ln.Month(), ln.Day(), 0, 0, 0, 0, time.UTC)
	oday := time.Date(lo.Year(), lo.Month(), lo.Day(), 0, 0, 0, 0, time.UTC)
	days := int(oday.Sub(today) / (24 * time.Hour)) // calendar days, whatever the offsets
	switch {
	case days <= 0:
		return "from " + clock + " today"
	case days == 1:
		return "from " + clock + " tomorrow"
	case days < 7:
		return "from " + clock + " on " + lo.Weekday().String()
	}
	return fmt.Sprintf("from %s on %d %s", clock, lo.Day(), lo.Month())
}
