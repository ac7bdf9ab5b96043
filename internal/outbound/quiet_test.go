package outbound_test

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zone files

	"github.com/parleyhq/parley/internal/outbound"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestWindowFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		start, end int
		region     string
		want       outbound.QuietHours
	}{
		{"default elsewhere", 480, 1260, "NY", outbound.QuietHours{Start: 480, End: 1260}},
		{"Florida ends at 20:00", 480, 1260, "FL", outbound.QuietHours{Start: 480, End: 1200}},
		{"Oklahoma ends at 20:00", 480, 1260, "OK", outbound.QuietHours{Start: 480, End: 1200}},
		{"region case and space", 480, 1260, " fl ", outbound.QuietHours{Start: 480, End: 1200}},
		{"narrower brand window kept", 540, 1140, "FL", outbound.QuietHours{Start: 540, End: 1140}},
		{"brand window elsewhere is the brand's", 600, 1230, "TX", outbound.QuietHours{Start: 600, End: 1230}},
		{"unknown region", 480, 1260, "", outbound.QuietHours{Start: 480, End: 1260}},
		{"no window in Florida", 0, 0, "FL", outbound.QuietHours{Start: 480, End: 1200}},
		{"window after 20:00 in Oklahoma", 1230, 1380, "OK", outbound.QuietHours{Start: 480, End: 1200}},
		{"wrapping window keeps its evening", 1080, 120, "FL", outbound.QuietHours{Start: 1080, End: 1200}},
		{"night window in Florida", 1320, 360, "FL", outbound.QuietHours{Start: 480, End: 1200}},
		{"night window elsewhere", 1320, 360, "NY", outbound.QuietHours{Start: 1320, End: 360}},
	}
	for _, tt := range tests {
		if got := outbound.WindowFor(tt.start, tt.end, tt.region); got != tt.want {
			t.Errorf("%s: WindowFor(%d, %d, %q) = %+v, want %+v", tt.name, tt.start, tt.end, tt.region, got, tt.want)
		}
	}
}

func TestNextSendTime(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	chicago := mustZone(t, "America/Chicago")
	honolulu := mustZone(t, "Pacific/Honolulu")
	def := outbound.QuietHours{Start: 480, End: 1260}
	fl := outbound.WindowFor(480, 1260, "FL")
	night := outbound.QuietHours{Start: 22 * 60, End: 6 * 60}
	at := func(loc *time.Location, y int, mo time.Month, d, h, m, s int) time.Time {
		return time.Date(y, mo, d, h, m, s, 0, loc)
	}

	tests := []struct {
		name     string
		now      time.Time
		loc      *time.Location
		w        outbound.QuietHours
		want     time.Time // == now when not held
		wantHeld bool
	}{
		{"before window", at(ny, 2025, 6, 10, 6, 15, 0), ny, def, at(ny, 2025, 6, 10, 8, 0, 0), true},
		{"inside", at(ny, 2025, 6, 10, 12, 0, 0), ny, def, at(ny, 2025, 6, 10, 12, 0, 0), false},
		{"exactly Start", at(ny, 2025, 6, 10, 8, 0, 0), ny, def, at(ny, 2025, 6, 10, 8, 0, 0), false},
		{"last second", at(ny, 2025, 6, 10, 20, 59, 59), ny, def, at(ny, 2025, 6, 10, 20, 59, 59), false},
		{"exactly End", at(ny, 2025, 6, 10, 21, 0, 0), ny, def, at(ny, 2025, 6, 11, 8, 0, 0), true},
		{"after End", at(ny, 2025, 6, 10, 23, 30, 0), ny, def, at(ny, 2025, 6, 11, 8, 0, 0), true},
		{"after End on the last of the month", at(ny, 2025, 12, 31, 22, 0, 0), ny, def, at(ny, 2026, 1, 1, 8, 0, 0), true},
		{"just past midnight", at(ny, 2025, 6, 11, 0, 0, 1), ny, def, at(ny, 2025, 6, 11, 8, 0, 0), true},

		// Florida and Oklahoma stop at 20:00; New York does not.
		{"Florida 20:30 held", at(ny, 2025, 6, 10, 20, 30, 0), ny, fl, at(ny, 2025, 6, 11, 8, 0, 0), true},
		{"Oklahoma 20:00 held", at(chicago, 2025, 6, 10, 20, 0, 0), chicago, outbound.WindowFor(480, 1260, "OK"), at(chicago, 2025, 6, 11, 8, 0, 0), true},
		{"Florida 19:59 sent", at(ny, 2025, 6, 10, 19, 59, 0), ny, fl, at(ny, 2025, 6, 10, 19, 59, 0), false},
		{"New York 20:30 sent", at(ny, 2025, 6, 10, 20, 30, 0), ny, outbound.WindowFor(480, 1260, "NY"), at(ny, 2025, 6, 10, 20, 30, 0), false},

		// 9 March 2025: New York clocks go 02:00 EST -> 03:00 EDT.
		{"spring forward, before the jump", at(ny, 2025, 3, 9, 1, 30, 0), ny, def, at(ny, 2025, 3, 9, 8, 0, 0), true},
		{"spring forward, from the evening before", at(ny, 2025, 3, 8, 22, 0, 0), ny, def, at(ny, 2025, 3, 9, 8, 0, 0), true},
		{"spring forward, inside", at(ny, 2025, 3, 9, 20, 30, 0), ny, def, at(ny, 2025, 3, 9, 20, 30, 0), false},
		{"spring forward, start in the skipped hour", at(ny, 2025, 3, 9, 1, 0, 0), ny,
			outbound.QuietHours{Start: 150, End: 600}, time.Date(2025, 3, 9, 7, 0, 0, 0, time.UTC), true}, // 03:00 EDT
		// 2 November 2025: New York clocks go 02:00 EDT -> 01:00 EST.
		{"fall back, before the change", at(ny, 2025, 11, 2, 0, 30, 0), ny, def, at(ny, 2025, 11, 2, 8, 0, 0), true},
		{"fall back, from the evening before", at(ny, 2025, 11, 1, 22, 0, 0), ny, def, at(ny, 2025, 11, 2, 8, 0, 0), true},
		{"fall back, end", at(ny, 2025, 11, 2, 21, 0, 0), ny, def, at(ny, 2025, 11, 3, 8, 0, 0), true},
		{"fall back, start in the repeated hour, first pass", time.Date(2025, 11, 2, 5, 10, 0, 0, time.UTC), ny, // 01:10 EDT
			outbound.QuietHours{Start: 90, End: 300}, time.Date(2025, 11, 2, 5, 30, 0, 0, time.UTC), true}, // 01:30 EDT
		{"fall back, start in the repeated hour, second pass", time.Date(2025, 11, 2, 6, 10, 0, 0, time.UTC), ny, // 01:10 EST
			outbound.QuietHours{Start: 90, End: 300}, time.Date(2025, 11, 2, 6, 30, 0, 0, time.UTC), true}, // 01:30 EST

		// A window that wraps past midnight.
		{"night window, late", at(ny, 2025, 6, 10, 23, 0, 0), ny, night, at(ny, 2025, 6, 10, 23, 0, 0), false},
		{"night window, early", at(ny, 2025, 6, 11, 5, 59, 0), ny, night, at(ny, 2025, 6, 11, 5, 59, 0), false},
		{"night window, at end", at(ny, 2025, 6, 11, 6, 0, 0), ny, night, at(ny, 2025, 6, 11, 22, 0, 0), true},
		{"night window, day", at(ny, 2025, 6, 11, 14, 0, 0), ny, night, at(ny, 2025, 6, 11, 22, 0, 0), true},
		{"night window, at start", at(ny, 2025, 6, 11, 22, 0, 0), ny, night, at(ny, 2025, 6, 11, 22, 0, 0), false},

		// Zones far apart.
		{"Honolulu afternoon", time.Date(2025, 6, 11, 1, 30, 0, 0, time.UTC), honolulu, def, time.Date(2025, 6, 11, 1, 30, 0, 0, time.UTC), false},
		{"Honolulu night", at(honolulu, 2025, 6, 10, 22, 0, 0), honolulu, def, at(honolulu, 2025, 6, 11, 8, 0, 0), true},

		// No window.
		{"Start == End", at(ny, 2025, 6, 11, 3, 0, 0), ny, outbound.QuietHours{Start: 600, End: 600}, at(ny, 2025, 6, 11, 3, 0, 0), false},
		{"out of range is clamped", at(ny, 2025, 6, 11, 3, 0, 0), ny, outbound.QuietHours{Start: -60, End: 2000}, at(ny, 2025, 6, 11, 3, 0, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, held := outbound.NextSendTime(tt.now, tt.loc, tt.w)
			if !got.Equal(tt.want) || held != tt.wantHeld {
				t.Fatalf("NextSendTime(%s in %s, %+v) = %s, %v; want %s, %v",
					tt.now.In(tt.loc), tt.loc, tt.w, got.In(tt.loc), held, tt.want.In(tt.loc), tt.wantHeld)
			}
			if !held && got != tt.now {
				t.Fatalf("not held but returned %s instead of now", got)
			}
		})
	}
}

// Durations across a clock change: the wait is in wall-clock terms, not 24 h.
func TestNextSendTimeDSTDurations(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	def := outbound.QuietHours{Start: 480, End: 1260}
	for _, tt := range []struct {
		now  time.Time
		wait time.Duration
	}{
		{time.Date(2025, 3, 8, 22, 0, 0, 0, ny), 9 * time.Hour},                // spring: 22:00 -> 08:00 is 9 h
		{time.Date(2025, 3, 9, 1, 30, 0, 0, ny), 5*time.Hour + 30*time.Minute}, // 01:30 EST -> 08:00 EDT
		{time.Date(2025, 11, 1, 22, 0, 0, 0, ny), 11 * time.Hour},              // fall: 22:00 -> 08:00 is 11 h
	} {
		at, held := outbound.NextSendTime(tt.now, ny, def)
		if !held || at.Sub(tt.now) != tt.wait {
			t.Errorf("from %s: held until %s (%s), want a wait of %s", tt.now, at, at.Sub(tt.now), tt.wait)
		}
		if h, m, _ := at.Clock(); h != 8 || m != 0 {
			t.Errorf("from %s: opens at %02d:%02d local, want 08:00", tt.now, h, m)
		}
	}
}

// The same instant is evening in New York and afternoon in Honolulu.
func TestNextSendTimeSameInstantTwoZones(t *testing.T) {
	t.Parallel()
	def := outbound.QuietHours{Start: 480, End: 1260}
	now := time.Date(2025, 6, 11, 1, 30, 0, 0, time.UTC) // 21:30 EDT, 15:30 HST on 10 June
	ny := mustZone(t, "America/New_York")
	hnl := mustZone(t, "Pacific/Honolulu")
	if at, held := outbound.NextSendTime(now, ny, def); !held || !at.Equal(time.Date(2025, 6, 11, 8, 0, 0, 0, ny)) {
		t.Errorf("New York: %s, %v; want held until 08:00 on 11 June", at, held)
	}
	if at, held := outbound.NextSendTime(now, hnl, def); held || !at.Equal(now) {
		t.Errorf("Honolulu: %s, %v; want sent now", at, held)
	}
}

func TestQuietHoursValidate(t *testing.T) {
	t.Parallel()
	for _, w := range []outbound.QuietHours{{Start: 480, End: 1260}, {Start: 0, End: 1440}, {Start: 1320, End: 360}, {Start: 600, End: 600}} {
		if err := w.Validate(); err != nil {
			t.Errorf("%+v: %v", w, err)
		}
	}
	for _, w := range []outbound.QuietHours{{Start: -1, End: 600}, {Start: 1440, End: 600}, {Start: 480, End: 1441}, {Start: 480, End: -5}} {
		if err := w.Validate(); err == nil {
			t.Errorf("%+v: no error", w)
		}
	}
}
