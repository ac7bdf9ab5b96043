package outbound

import (
	"fmt"
	"strings"
	"time"
)

// The TCPA lets marketing texts reach a recipient between 08:00 and 21:00
// local time; brands start from this window and may narrow it.
const (
	DefaultQuietStart = 8 * 60  // 08:00
	DefaultQuietEnd   = 21 * 60 // 21:00
)

// stateEnd is the latest end Florida and Oklahoma allow (20:00).
const stateEnd = 20 * 60

const minutesPerDay = 24 * 60

// QuietHours is the daily window in which a held message may be sent,
// measured in the recipient's local time; the rest of the day is quiet.
// Start and End are minutes after local midnight, Start inclusive and End
// exclusive, so {480, 1260} allows 08:00:00 up to 20:59:59.
//
// Start == End means there is no window: sending is always allowed. Start >
// End means the window wraps past midnight ({1320, 360} is 22:00–06:00, for
// night-shift staff alerts). End may be 1440 (until midnight).
type QuietHours struct {
	Start, End int
}

// Validate rejects a window that cannot be meant, so that a brand's settings
// are refused when they are saved rather than clamped silently at send time.
func (w QuietHours) Validate() error {
	if w.Start < 0 || w.Start >= minutesPerDay {
		return fmt.Errorf("quiet hours: start %d is not a minute of the day (0–1439)", w.Start)
	}
	if w.End < 0 || w.End > minutesPerDay {
		return fmt.Errorf("quiet hours: end %d is not a minute of the day (0–1440)", w.End)
	}
	return nil
}

// WindowFor is the send window for one recipient: the brand's window, except
// that Florida ("FL") and Oklahoma ("OK") numbers must not be texted after
// 20:00 local, so their window ends at min(brandEnd, 20:00). region is the
// two-letter code from contact.AreaCodeInfo.
//
// For Florida and Oklahoma a brand window that cannot be clipped to end by
// 20:00 and stay a single non-empty window (no window at all, a daytime
// window starting at or after 20:00, or a wrapping window starting at or
// after 20:00) becomes the statutory 08:00–20:00. A wrapping window that
// starts before 20:00 keeps its evening part, Start–20:00.
func WindowFor(brandStart, brandEnd int, region string) QuietHours {
	w := QuietHours{Start: brandStart, End: brandEnd}
	switch strings.ToUpper(strings.TrimSpace(region)) {
	case "FL", "OK":
	default:
		return w
	}
	switch {
	case w.Start < w.End:
		w.End = min(w.End, stateEnd)
		if w.Start < w.End {
			return w
		}
	case w.Start > w.End && w.Start < stateEnd:
		return QuietHours{Start: w.Start, End: stateEnd}
	}
	return QuietHours{Start: DefaultQuietStart, End: stateEnd}
}

// NextSendTime says when a message may go to a recipient in loc: now itself
// if the local time is inside the window (held = false), otherwise the next
// moment the window opens (held = true): today's Start if it is still to
// come, else tomorrow's.
//
// Opening times are local wall-clock times, so a window opening at 08:00
// opens at 08:00 on the days clocks change too. If Start falls in the hour
// skipped when clocks go forward, the window opens when clocks jump; if it
// falls in the hour repeated when clocks go back, it opens at the first
// occurrence still to come. Out-of-range Start or End (see Validate) are
// clamped to the day. loc must not be nil.
func NextSendTime(now time.Time, loc *time.Location, w QuietHours) (at time.Time, held bool) {
	start := clamp(w.Start, 0, minutesPerDay-1)
	end := clamp(w.End, 0, minutesPerDay)
	if start == end {
		return now, false
	}
	local := now.In(loc)
	m := local.Hour()*60 + local.Minute()
	var open bool
	if start < end {
		open = start <= m && m < end
	} else {
		open = m >= start || m < end
	}
	if open {
		return now, false
	}
	y, mo, d := local.Date()
	if start < end && m >= end {
		d++ // today's window has closed
	}
	at = wallClock(y, mo, d, start, loc)
	if !at.After(now) {
		// Start falls in the repeated hour and its first occurrence has
		// passed: the window opens at the second one.
		at = laterOccurrence(at)
	}
	return at, true
}

// wallClock is the first instant in loc at which the clock reads minute on
// that day; when that reading is skipped (clocks go forward) it is the
// instant the clocks jump.
func wallClock(y int, mo time.Month, d, minute int, loc *time.Location) time.Time {
	t := time.Date(y, mo, d, minute/60, minute%60, 0, 0, loc)
	want := time.Date(y, mo, d, minute/60, minute%60, 0, 0, time.UTC)
	got := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	switch {
	case got.Before(want): // in the gap; time.Date went back before it
		_, end := t.ZoneBounds()
		return end
	case got.After(want): // in the gap; time.Date went past it
		start, _ := t.ZoneBounds()
		return start
	}
	return t
}

// laterOccurrence is the same wall-clock reading as t in the zone that
// follows t's, which is the second occurrence when clocks go back.
func laterOccurrence(t time.Time) time.Time {
	_, end := t.ZoneBounds()
	if end.IsZero() {
		return t
	}
	_, before := t.Zone()
	_, after := end.Zone()
	if before <= after {
		return t
	}
	return t.Add(time.Duration(before-after) * time.Second)
}

func clamp(v, lo, hi int) int {
	return max(lo, min(v, hi))
}
