package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/personalize"
)

// Assignment strategies.
const (
	AssignManual           = "manual"
	AssignStickyRoundRobin = "sticky_round_robin"
	AssignStickyLeastBusy  = "sticky_least_busy"
)

// Assignments are the strategies a brand can choose.
var Assignments = []string{AssignManual, AssignStickyRoundRobin, AssignStickyLeastBusy}

// Doc is a brand's settings as the API reads and writes them: GET returns
// exactly the fields PUT accepts.
type Doc struct {
	Timezone string `json:"timezone"`
	// BusinessHours by day (mon … sun): null means no schedule, always open.
	BusinessHours           map[string][][]string `json:"business_hours"`
	Holidays                []HolidayDoc          `json:"holidays"`
	AfterHoursReply         string                `json:"after_hours_reply"`
	FirstResponseSLASeconds int                   `json:"first_response_sla_seconds"`
	NextResponseSLASeconds  int                   `json:"next_response_sla_seconds"`
	SLABusinessHours        bool                  `json:"sla_business_hours"`
	Assignment              string                `json:"assignment"`
	ReassignAfterSeconds    int                   `json:"reassign_after_seconds"`
	AutoCloseAfterSeconds   int                   `json:"auto_close_after_seconds"`
	AutoReplyLimitPerHour   int                   `json:"auto_reply_limit_per_hour"`
	TierPriority            map[string]int        `json:"tier_priority"`
	// OptInKeyword starts a double opt-in to marketing by text ("JOIN"):
	// the customer is asked to reply YES; "" for none.
	OptInKeyword string `json:"opt_in_keyword"`
	// CSAT is the after-conversation survey: asked when an agent closes a
	// conversation (not an automatic close), at most once per conversation
	// in CSATEvery, or by hand from the console.
	CSAT CSATDoc `json:"csat"`
}

// CSATDoc is the after-conversation survey's settings.
type CSATDoc struct {
	Enabled   bool              `json:"enabled"`
	Text      string            `json:"text"`
	Kind      string            `json:"kind"` // rating (default), nps or yes_no
	Scale     int               `json:"scale,omitempty"`
	FollowUps map[string]string `json:"follow_ups,omitempty"`
}

// CSATEvery is how rarely one conversation is surveyed automatically.
const CSATEvery = 7 * 24 * time.Hour

// DefaultCSATText asks how the conversation went.
const DefaultCSATText = "How did we do today? Reply 1 (poor) to 5 (great)."

var optInKeyword = regexp.MustCompile(`^[A-Za-z0-9]{2,20}$`)

// reservedKeywords are the compliance keywords an opt-in keyword may not be.
var reservedKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE",
	"START", "YES", "UNSTOP", "HELP", "INFO"}

// HolidayDoc is a date with its own hours: [] closed, or special hours.
type HolidayDoc struct {
	Date  string     `json:"date"`
	Name  string     `json:"name"`
	Hours [][]string `json:"hours"`
}

// DefaultDoc is the settings of a brand that saved none: always open,
// manual assignment, the first-response target it has (slaSeconds).
func DefaultDoc(timezone string, slaSeconds int) Doc {
	return Doc{Timezone: timezone, Holidays: []HolidayDoc{}, AfterHoursReply: DefaultAfterHoursReply,
		FirstResponseSLASeconds: slaSeconds, Assignment: AssignManual,
		AutoReplyLimitPerHour: DefaultAutoReplyLimit, TierPriority: map[string]int{}}
}

// Merge applies a PUT body over cur: each field present replaces the stored
// one, a field left out keeps its value; an unknown field or a value of the
// wrong type is a *FieldError. The result is validated (Validate).
func Merge(cur Doc, body []byte) (Doc, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return cur, fieldErr("body", "must be a JSON object")
	}
	next := cur
	known := map[string]any{
		"timezone": &next.Timezone, "business_hours": &next.BusinessHours, "holidays": &next.Holidays,
		"after_hours_reply": &next.AfterHoursReply, "first_response_sla_seconds": &next.FirstResponseSLASeconds,
		"next_response_sla_seconds": &next.NextResponseSLASeconds, "sla_business_hours": &next.SLABusinessHours,
		"assignment": &next.Assignment, "reassign_after_seconds": &next.ReassignAfterSeconds,
		"auto_close_after_seconds": &next.AutoCloseAfterSeconds, "auto_reply_limit_per_hour": &next.AutoReplyLimitPerHour,
		"tier_priority": &next.TierPriority, "opt_in_keyword": &next.OptInKeyword, "csat": &next.CSAT,
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		dst, ok := known[k]
		if !ok {
			return cur, fieldErr(k, "unknown setting")
		}
		raw := fields[k]
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) && k != "business_hours" {
			return cur, fieldErr(k, "must not be null")
		}
		if k == "business_hours" {
			next.BusinessHours = nil
		}
		if k == "holidays" {
			next.Holidays = nil
		}
		if k == "tier_priority" {
			next.TierPriority = nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return cur, fieldErr(k, "has the wrong type: %v", typeMsg(err))
		}
	}
	if next.Holidays == nil {
		next.Holidays = []HolidayDoc{}
	}
	if next.TierPriority == nil {
		next.TierPriority = map[string]int{}
	}
	if _, err := next.Compile(); err != nil {
		return cur, err
	}
	return next, nil
}

func typeMsg(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("%s where %s was expected", te.Value, te.Type)
	}
	return err.Error()
}

// Brand is a brand's settings ready for use: the routing Settings (without
// rules) and the rest.
type Brand struct {
	Settings
	Doc Doc
}

func within(field string, v, lo, hi int, zeroOK bool) error {
	if zeroOK && v == 0 {
		return nil
	}
	if v < lo || v > hi {
		off := ""
		if zeroOK {
			off = " (or 0 for off)"
		}
		return fieldErr(field, "%d is out of range: %d to %d%s", v, lo, hi, off)
	}
	return nil
}

// Compile validates the document and builds what routing uses from it. A
// bad value is a *FieldError naming it (business_hours.mon[1],
// holidays[0].date, …).
func (d Doc) Compile() (Brand, error) {
	out := Brand{Doc: d}
	loc, err := time.LoadLocation(d.Timezone)
	if d.Timezone == "" || err != nil {
		return out, fieldErr("timezone", "%q is not an IANA time zone such as America/New_York", d.Timezone)
	}
	if d.BusinessHours != nil {
		h := Hours{Set: true, Loc: loc, Holidays: map[string]Holiday{}}
		for day, raw := range d.BusinessHours {
			wd, ok := dayIndex[day]
			if !ok {
				return out, fieldErr("business_hours."+day, "unknown day: use %s", strings.Join(Days, ", "))
			}
			ivs, err := ParseIntervals("business_hours."+day, raw)
			if err != nil {
				return out, err
			}
			h.Week[wd] = ivs
		}
		out.Hours = h
	}
	seen := map[string]bool{}
	for i, hol := range d.Holidays {
		f := fmt.Sprintf("holidays[%d]", i)
		if _, err := time.Parse(time.DateOnly, hol.Date); err != nil {
			return out, fieldErr(f+".date", "%q is not a date (YYYY-MM-DD)", hol.Date)
		}
		if seen[hol.Date] {
			return out, fieldErr(f+".date", "%s is listed twice", hol.Date)
		}
		seen[hol.Date] = true
		if utf8.RuneCountInString(hol.Name) > 100 {
			return out, fieldErr(f+".name", "at most 100 characters")
		}
		ivs, err := ParseIntervals(f+".hours", hol.Hours)
		if err != nil {
			return out, err
		}
		if out.Hours.Set {
			out.Hours.Holidays[hol.Date] = Holiday{Date: hol.Date, Name: hol.Name, Hours: ivs}
		}
	}
	if len(d.Holidays) > 0 && d.BusinessHours == nil {
		return out, fieldErr("holidays", "holidays replace business hours: set business_hours first (without them the brand is always open)")
	}
	switch {
	case utf8.RuneCountInString(d.AfterHoursReply) > MaxReply:
		return out, fieldErr("after_hours_reply", "at most %d characters", MaxReply)
	case d.AfterHoursReply != "":
		if _, err := personalize.Parse(d.AfterHoursReply); err != nil {
			return out, fieldErr("after_hours_reply", "%v", err)
		}
	}
	for _, c := range []struct {
		field     string
		v, lo, hi int
		zeroOK    bool
	}{
		{"first_response_sla_seconds", d.FirstResponseSLASeconds, 60, 7 * 86400, false},
		{"next_response_sla_seconds", d.NextResponseSLASeconds, 60, 7 * 86400, true},
		{"reassign_after_seconds", d.ReassignAfterSeconds, 60, 86400, true},
		{"auto_close_after_seconds", d.AutoCloseAfterSeconds, 300, 90 * 86400, true},
		{"auto_reply_limit_per_hour", d.AutoReplyLimitPerHour, 1, 100, false},
	} {
		if err := within(c.field, c.v, c.lo, c.hi, c.zeroOK); err != nil {
			return out, err
		}
	}
	if !slices.Contains(Assignments, d.Assignment) {
		return out, fieldErr("assignment", "%q: must be one of %s", d.Assignment, strings.Join(Assignments, ", "))
	}
	for tier, rank := range d.TierPriority {
		if strings.TrimSpace(tier) == "" || utf8.RuneCountInString(tier) > 50 {
			return out, fieldErr("tier_priority", "%q: a tier is 1 to 50 characters", tier)
		}
		if rank < -100 || rank > 100 {
			return out, fieldErr("tier_priority."+tier, "%d is out of range: -100 to 100", rank)
		}
	}
	if d.OptInKeyword != "" {
		k := Normalize(d.OptInKeyword)
		switch {
		case !optInKeyword.MatchString(d.OptInKeyword):
			return out, fieldErr("opt_in_keyword", "%q: one word of 2 to 20 letters or digits, such as JOIN", d.OptInKeyword)
		case slices.Contains(reservedKeywords, strings.ToUpper(k)):
			return out, fieldErr("opt_in_keyword", "%q is a compliance keyword (STOP, START, YES, HELP…)", d.OptInKeyword)
		}
		out.OptInKeyword = k
	}
	if err := d.CSAT.check(); err != nil {
		return out, err
	}
	out.AfterHoursReply = d.AfterHoursReply
	out.AutoReplyLimit = d.AutoReplyLimitPerHour
	out.Targets = Targets{FirstResponse: time.Duration(d.FirstResponseSLASeconds) * time.Second,
		NextResponse: time.Duration(d.NextResponseSLASeconds) * time.Second, BusinessHours: d.SLABusinessHours}
	return out, nil
}

func (c CSATDoc) check() error {
	switch c.Kind {
	case "", "rating", "nps", "yes_no":
	default:
		return fieldErr("csat.kind", "%q: rating, nps or yes_no", c.Kind)
	}
	if c.Scale != 0 && (c.Kind == "nps" || c.Kind == "yes_no" || c.Scale < 2 || c.Scale > 10) {
		return fieldErr("csat.scale", "a rating's scale is 2 to 10 (other kinds take none)")
	}
	if utf8.RuneCountInString(c.Text) > MaxReply {
		return fieldErr("csat.text", "at most %d characters", MaxReply)
	}
	if _, err := personalize.Parse(c.Text); err != nil {
		return fieldErr("csat.text", "%v", err)
	}
	for k, v := range c.FollowUps {
		if _, err := personalize.Parse(v); err != nil {
			return fieldErr("csat.follow_ups."+k, "%v", err)
		}
	}
	return nil
}

// Survey is the survey's text and kind with the defaults filled in.
func (c CSATDoc) Survey() (text, kind string, scale int) {
	text, kind, scale = strings.TrimSpace(c.Text), c.Kind, c.Scale
	if text == "" {
		text = DefaultCSATText
	}
	if kind == "" {
		kind = "rating"
	}
	if kind == "rating" && scale == 0 {
		scale = 5
	}
	return text, kind, scale
}
