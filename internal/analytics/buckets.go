// Package analytics holds the figures' arithmetic: time buckets in a
// brand's zone, percentiles, first-response episodes and the topics of
// customers' texts. Those functions read no database and no clock; the
// store gathers the rows, read.go gathers them once for the API and the
// console alike (ReadWaits, ReadTopics), and each serves what these
// functions make of them.
package analytics

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Granularity is the width of a bucket.
type Granularity string

// The granularities the API offers.
const (
	Hour Granularity = "hour"
	Day  Granularity = "day"
)

// ParseGranularity reads ?granularity=; "" is a day.
func ParseGranularity(s string) (Granularity, error) {
	switch s {
	case "", "day":
		return Day, nil
	case "hour":
		return Hour, nil
	}
	return "", fmt.Errorf("granularity must be hour or day, not %q", s)
}

// MaxBuckets bounds one answer: about a year of days, or a month of hours.
const MaxBuckets = 800

// Period is the half-open span [Start, End) of the local days from its
// first to its last date, inclusive.
type Period struct {
	Start, End time.Time
	Loc        *time.Location
}

// DefaultDays is the length of a period asked for without from: a week
// ending on to.
const DefaultDays = 7

// ParsePeriod reads two YYYY-MM-DD dates in loc; from must not be after to.
// An empty to is now's local date, an empty from DefaultDays-1 days before
// to. The error names the field.
func ParsePeriod(from, to string, now time.Time, loc *time.Location) (Period, string, error) {
	var t time.Time
	if to == "" {
		n := now.In(loc)
		t = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	} else {
		var err error
		if t, err = time.ParseInLocation(time.DateOnly, to, loc); err != nil {
			return Period{}, "to", fmt.Errorf("to must be a date YYYY-MM-DD, not %q", to)
		}
	}
	f := time.Date(t.Year(), t.Month(), t.Day()-(DefaultDays-1), 0, 0, 0, 0, loc)
	if from != "" {
		var err error
		if f, err = time.ParseInLocation(time.DateOnly, from, loc); err != nil {
			return Period{}, "from", fmt.Errorf("from must be a date YYYY-MM-DD, not %q", from)
		}
	}
	if t.Before(f) {
		return Period{}, "to", fmt.Errorf("to (%s) is before from (%s)", t.Format(time.DateOnly), f.Format(time.DateOnly))
	}
	return Period{Start: f, End: time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc), Loc: loc}, "", nil
}

// Previous is the period of as many local days just before p (a period
// holding a DST change is compared with as many days, not hours).
func (p Period) Previous() Period {
	days := int(math.Round(p.End.Sub(p.Start).Hours() / 24))
	s := p.Start
	return Period{Start: time.Date(s.Year(), s.Month(), s.Day()-days, 0, 0, 0, 0, s.Location()), End: p.Start, Loc: p.Loc}
}

// Count is how many buckets Buckets would return, without making them (a
// period of centuries by the hour is refused before it is built).
func (p Period) Count(g Granularity) int {
	h := int(p.End.Sub(p.Start) / time.Hour)
	if g == Hour {
		return h
	}
	return (h + 12) / 24 // a day is 23 to 25 hours
}

// Buckets are the starts of p's buckets, in order. A day is a local
// calendar day (23 or 25 hours across a DST change); an hour is an
// absolute hour from local midnight, so the repeated 01:00 of a fall-back
// night is two buckets with two offsets.
func Buckets(p Period, g Granularity) []time.Time {
	var out []time.Time
	for t := p.Start; t.Before(p.End); {
		out = append(out, t)
		if g == Hour {
			t = t.Add(time.Hour)
		} else {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, p.Loc)
		}
	}
	return out
}

// Label is how a bucket is named in an answer: the local date of a day,
// RFC 3339 with the local offset for an hour.
func Label(start time.Time, g Granularity, loc *time.Location) string {
	if g == Hour {
		return start.In(loc).Format(time.RFC3339)
	}
	return start.In(loc).Format(time.DateOnly)
}

// Index is the bucket t falls in, or -1 outside them all. starts must be
// Buckets' answer and end the period's end.
func Index(starts []time.Time, end, t time.Time) int {
	if len(starts) == 0 || t.Before(starts[0]) || !t.Before(end) {
		return -1
	}
	return sort.Search(len(starts), func(i int) bool { return starts[i].After(t) }) - 1
}
