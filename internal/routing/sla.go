package routing

import "time"

// AddOpen is the instant when d of opening time has passed from start: d
// counted only while the brand is open. Without a schedule it is start+d;
// false when the schedule never opens enough within a year.
func (h Hours) AddOpen(start time.Time, d time.Duration) (time.Time, bool) {
	if !h.Set {
		return start.Add(d), true
	}
	ls := start.In(h.loc())
	cursor := start
	for i := 0; i < horizon; i++ {
		dd := civilDay(ls, i)
		for _, iv := range h.on(dd) {
			from, to := at(dd, iv.From), at(dd, iv.To)
			if !to.After(cursor) {
				continue
			}
			if from.After(cursor) {
				cursor = from
			}
			if avail := to.Sub(cursor); d <= avail {
				return cursor.Add(d), true
			}
			d -= to.Sub(cursor)
			cursor = to
		}
	}
	return time.Time{}, false
}

// Targets are a brand's response targets.
type Targets struct {
	FirstResponse time.Duration // a conversation no person has answered yet
	NextResponse  time.Duration // one answered before (0: FirstResponse applies)
	BusinessHours bool          // count only while the brand is open
}

// Due is when a customer waiting since waitingSince must have had an
// answer; answeredBefore says a person has answered this conversation
// already. False when no target applies.
func Due(t Targets, h Hours, waitingSince time.Time, answeredBefore bool) (time.Time, bool) {
	target := t.FirstResponse
	if answeredBefore && t.NextResponse > 0 {
		target = t.NextResponse
	}
	if target <= 0 {
		return time.Time{}, false
	}
	if t.BusinessHours {
		return h.AddOpen(waitingSince, target)
	}
	return waitingSince.Add(target), true
}

// OpenBetween is how much of [a, b) the brand was open: the business time
// a customer waited. Without a schedule it is b-a; zero when b is not
// after a. It is AddOpen's inverse: OpenBetween(a, AddOpen(a, d)) is d.
func (h Hours) OpenBetween(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if !h.Set {
		return b.Sub(a)
	}
	la := a.In(h.loc())
	var open time.Duration
	for i := 0; i < horizon; i++ {
		dd := civilDay(la, i)
		if at(dd, 0).After(b) {
			break // the day begins after b: nothing of it counts
		}
		for _, iv := range h.on(dd) {
			from, to := at(dd, iv.From), at(dd, iv.To)
			if from.Before(a) {
				from = a
			}
			if to.After(b) {
				to = b
			}
			if to.After(from) {
				open += to.Sub(from)
			}
		}
	}
	return open
}
