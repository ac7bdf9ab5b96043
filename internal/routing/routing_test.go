package routing

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/personalize"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  ¿Horário?!  ":  "horario",
		"MENÚ, please…":   "menu please",
		"Crème-brûlée":    "creme brulee",
		"opening   hours": "opening hours",
		"!!!":             "",
		"Ça va 😀 ok":      "ca va ok",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func mustRule(t *testing.T, r Rule) Rule {
	t.Helper()
	c, err := Compile(r)
	if err != nil {
		t.Fatalf("compile %+v: %v", r, err)
	}
	return c
}

func TestRulesMatchInOrder(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		mustRule(t, Rule{ID: 1, Match: MatchExact, Pattern: "Hours?", Reply: "9 to 5"}),
		mustRule(t, Rule{ID: 2, Match: MatchFirstWord, Pattern: "menú", Reply: "menu"}),
		mustRule(t, Rule{ID: 3, Match: MatchContains, Pattern: "opening hours", Reply: "9 to 5"}),
		mustRule(t, Rule{ID: 4, Match: MatchRegex, Pattern: `^(track|where is) (my )?(order|parcel)`, Reply: "link"}),
		mustRule(t, Rule{ID: 5, Match: MatchContains, Pattern: "hours", Reply: "fallback"}),
		mustRule(t, Rule{ID: 6, Match: MatchRegex, Pattern: `#\d+`, Reply: "order"}),
		mustRule(t, Rule{ID: 7, Match: MatchRegex, Pattern: `menú del`, Reply: "menu"}),
	}
	cases := []struct {
		body string
		want int64 // 0: none
	}{
		{"HOURS", 1},
		{"hours!", 1},
		{"Hours please", 5}, // not exact; contains "hours"
		{"Menu? today", 2},
		{"the menu", 0},
		{"What are your Opening-Hours?", 3},
		{"opening the hours", 5}, // contains keeps the pattern's words together
		{"Where is my order #123", 4},
		{"WHERE IS MY PARCEL", 4},
		{"nonstop", 0},
		{"Order #123 status", 6},
		{"El MENÚ del día", 7},
		{"", 0},
	}
	for _, c := range cases {
		r, ok := FirstMatch(rules, c.body)
		if got := map[bool]int64{true: r.ID}[ok]; got != c.want {
			t.Errorf("%q matched rule %d, want %d", c.body, got, c.want)
		}
	}
	if _, ok := FirstMatch(nil, "hours"); ok {
		t.Error("no rules, yet a match")
	}
}

func TestCompileNamesTheField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		r     Rule
		field string
	}{
		{Rule{Match: "fuzzy", Pattern: "x", Reply: "y"}, "match"},
		{Rule{Match: MatchExact, Pattern: " ", Reply: "y"}, "pattern"},
		{Rule{Match: MatchExact, Pattern: "?!", Reply: "y"}, "pattern"},
		{Rule{Match: MatchRegex, Pattern: "(unclosed", Reply: "y"}, "pattern"},
		{Rule{Match: MatchRegex, Pattern: strings.Repeat("a", MaxPattern+1), Reply: "y"}, "pattern"},
		{Rule{Match: MatchExact, Pattern: "x", Reply: ""}, "reply"},
		{Rule{Match: MatchExact, Pattern: "x", Reply: "Hi {{.FirstName"}, "reply"},
		{Rule{Match: MatchExact, Pattern: "x", Reply: `{{printf "%d" 1}}`}, "reply"},
	} {
		_, err := Compile(c.r)
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != c.field {
			t.Errorf("Compile(%+v) = %v, want an error naming %s", c.r, err, c.field)
		}
	}
}

func hours(t *testing.T, tz string, week map[string][][]string, holidays ...Holiday) Hours {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	h := Hours{Set: true, Loc: loc, Holidays: map[string]Holiday{}}
	for day, raw := range week {
		ivs, err := ParseIntervals("business_hours."+day, raw)
		if err != nil {
			t.Fatal(err)
		}
		h.Week[dayIndex[day]] = ivs
	}
	for _, hol := range holidays {
		h.Holidays[hol.Date] = hol
	}
	return h
}

func local(t *testing.T, tz, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const ny = "America/New_York"

func weekdays(ivs ...[]string) map[string][][]string {
	w := map[string][][]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		w[d] = ivs
	}
	return w
}

func TestBusinessHours(t *testing.T) {
	t.Parallel()
	// Split shift on weekdays, Saturday morning, a late Friday, Christmas closed
	// and special hours on 24 December.
	w := weekdays([]string{"09:00", "12:00"}, []string{"14:00", "18:00"})
	w["fri"] = [][]string{{"09:00", "12:00"}, {"14:00", "24:00"}}
	w["sat"] = [][]string{{"00:00", "02:00"}, {"10:00", "13:00"}}
	h := hours(t, ny, w,
		Holiday{Date: "2026-12-25", Name: "Christmas"},
		Holiday{Date: "2026-12-24", Name: "Christmas Eve", Hours: []Interval{{9 * 60, 13 * 60}}})
	cases := []struct {
		at       string
		open     bool
		next     string // local time of the next opening when closed
		closedAt string // when the closed period began
	}{
		{"2026-03-02 08:59", false, "2026-03-02 09:00", "2026-02-28 13:00"}, // Monday before opening
		{"2026-03-02 09:00", true, "", ""},
		{"2026-03-02 12:00", false, "2026-03-02 14:00", "2026-03-02 12:00"}, // lunch in a split shift
		{"2026-03-02 17:59", true, "", ""},
		{"2026-03-02 23:59", false, "2026-03-03 09:00", "2026-03-02 18:00"},
		{"2026-03-06 23:59", true, "", ""}, // Friday runs to midnight and on into Saturday
		{"2026-03-07 00:30", true, "", ""},
		{"2026-03-07 02:00", false, "2026-03-07 10:00", "2026-03-07 02:00"},
		{"2026-03-07 13:30", false, "2026-03-09 09:00", "2026-03-07 13:00"}, // Saturday afternoon: Monday
		// DST starts in New York on Sunday 8 March 2026 (02:00 → 03:00).
		{"2026-03-08 12:00", false, "2026-03-09 09:00", "2026-03-07 13:00"},
		{"2026-03-09 09:30", true, "", ""},
		// DST ends on Sunday 1 November 2026 (02:00 → 01:00).
		{"2026-11-01 01:30", false, "2026-11-02 09:00", "2026-10-31 13:00"},
		{"2026-11-02 09:00", true, "", ""},
		// Holidays: special hours, then closed, then Saturday's hours.
		{"2026-12-24 12:30", true, "", ""},
		{"2026-12-24 14:30", false, "2026-12-26 00:00", "2026-12-24 13:00"}, // Thursday 24th ends at 13:00; Friday 25th closed
		{"2026-12-25 10:00", false, "2026-12-26 00:00", "2026-12-24 13:00"},
	}
	for _, c := range cases {
		at := local(t, ny, c.at)
		if got := h.OpenAt(at); got != c.open {
			t.Errorf("%s: open %v, want %v", c.at, got, c.open)
			continue
		}
		if c.open {
			continue
		}
		next, ok := h.NextOpening(at)
		if !ok || !next.Equal(local(t, ny, c.next)) {
			t.Errorf("%s: next opening %v (%v), want %s", c.at, next.In(h.Loc), ok, c.next)
		}
		if got := h.ClosedSince(at); !got.Equal(local(t, ny, c.closedAt)) {
			t.Errorf("%s: closed since %v, want %s", c.at, got.In(h.Loc), c.closedAt)
		}
	}
}

func TestScheduleExtremes(t *testing.T) {
	t.Parallel()
	at := local(t, ny, "2026-03-02 03:58")
	var none Hours
	if !none.OpenAt(at) {
		t.Error("a brand with no schedule is always open")
	}
	closed := hours(t, ny, map[string][][]string{})
	if closed.OpenAt(at) {
		t.Error("a schedule with every day empty is always closed")
	}
	if _, ok := closed.NextOpening(at); ok {
		t.Error("an always-closed schedule opens")
	}
	if !closed.ClosedSince(at).IsZero() {
		t.Error("an always-closed schedule has a closing time")
	}
	allDay := hours(t, ny, map[string][][]string{"mon": {{"00:00", "24:00"}}})
	if !allDay.OpenAt(local(t, ny, "2026-03-02 00:00")) || !allDay.OpenAt(local(t, ny, "2026-03-02 23:59")) || allDay.OpenAt(local(t, ny, "2026-03-03 00:00")) {
		t.Error("00:00–24:00 is the whole day and no more")
	}
}

func TestParseIntervalsNamesTheProblem(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		raw  [][]string
		want string
	}{
		{[][]string{{"25:00", "26:00"}}, "business_hours.mon[0]"},
		{[][]string{{"9:00", "17:00"}}, "business_hours.mon[0]"},
		{[][]string{{"17:00", "09:00"}}, "business_hours.mon[0]"},
		{[][]string{{"09:00"}}, "business_hours.mon[0]"},
		{[][]string{{"09:00", "13:00"}, {"12:00", "18:00"}}, "business_hours.mon"},
		{[][]string{{"24:30", "24:45"}}, "business_hours.mon[0]"},
	} {
		_, err := ParseIntervals("business_hours.mon", c.raw)
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != c.want {
			t.Errorf("%v: %v, want an error naming %s", c.raw, err, c.want)
		}
	}
	if ivs, err := ParseIntervals("x", [][]string{{"14:00", "18:00"}, {"09:00", "12:00"}}); err != nil || ivs[0].From != 9*60 {
		t.Errorf("intervals are sorted: %v %v", ivs, err)
	}
}

func TestDescribeOpeningInTheCustomersTime(t *testing.T) {
	t.Parallel()
	la, _ := time.LoadLocation("America/Los_Angeles")
	nyLoc, _ := time.LoadLocation(ny)
	now := local(t, ny, "2026-03-02 23:00") // Monday 23:00 in New York, 20:00 in Los Angeles
	cases := []struct {
		open string
		loc  *time.Location
		want string
	}{
		{"2026-03-03 09:00", nyLoc, "from 9:00 tomorrow"},
		{"2026-03-03 09:00", la, "from 6:00 tomorrow"},
		{"2026-03-02 23:30", nyLoc, "from 23:30 today"},
		{"2026-03-06 14:30", nyLoc, "from 14:30 on Friday"},
		{"2026-03-20 09:00", nyLoc, "from 9:00 on 20 March"},
		{"2026-03-09 09:00", nyLoc, "from 9:00 on 9 March"}, // a week or more away: the date
	}
	for _, c := range cases {
		if got := DescribeOpening(local(t, ny, c.open), now, c.loc); got != c.want {
			t.Errorf("%s in %s: %q, want %q", c.open, c.loc, got, c.want)
		}
	}
}

func TestLooksLikeMachine(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	quick := func(at time.Time) Automated { return Automated{At: at, AnsweredAt: at.Add(time.Second)} }
	slow := func(at time.Time) Automated { return Automated{At: at, AnsweredAt: at.Add(30 * time.Second)} }
	newest := Automated{At: t0}
	cases := []struct {
		name    string
		history []Automated
		now     time.Time
		want    bool
	}{
		{"third quick answer", []Automated{newest, quick(t0.Add(-time.Minute)), quick(t0.Add(-2 * time.Minute))}, t0.Add(1500 * time.Millisecond), true},
		{"this answer is slow", []Automated{newest, quick(t0.Add(-time.Minute)), quick(t0.Add(-2 * time.Minute))}, t0.Add(3 * time.Second), false},
		{"one earlier answer slow", []Automated{newest, slow(t0.Add(-time.Minute)), quick(t0.Add(-2 * time.Minute))}, t0.Add(time.Second), false},
		{"only two automated texts", []Automated{newest, quick(t0.Add(-time.Minute))}, t0.Add(time.Second), false},
	}
	for _, c := range cases {
		if got := LooksLikeMachine(c.history, c.now); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestIsPersonPhone(t *testing.T) {
	t.Parallel()
	for from, want := range map[string]bool{"+15551234567": true, "+447911123456": true, "22395": false, "AMAZON": false, "+1555": false, "+1555ABC4567": false} {
		if IsPersonPhone(from) != want {
			t.Errorf("IsPersonPhone(%q) != %v", from, want)
		}
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	nyLoc, _ := time.LoadLocation(ny)
	la, _ := time.LoadLocation("America/Los_Angeles")
	settings := Settings{
		Rules: []Rule{
			mustRule(t, Rule{ID: 7, Match: MatchFirstWord, Pattern: "hours", Reply: "Hi {{default \"there\" .FirstName}}, we open 9–18."}),
			mustRule(t, Rule{ID: 8, Match: MatchContains, Pattern: "refund", Reply: "A person will look at your refund, {{.FirstName}}.", HandToAgent: true}),
		},
		Hours: hours(t, ny, weekdays([]string{"09:00", "18:00"})),
	}
	open := local(t, ny, "2026-03-02 10:00")
	night := local(t, ny, "2026-03-02 03:58")
	ana := personalize.NewData("Ana López", "+15551230001", "", nil)
	nobody := personalize.NewData("", "+15551230001", "", nil)
	cases := []struct {
		name string
		in   Input
		want Decision
	}{
		{"a rule answers, and settles the conversation the text opened", Input{Body: "Hours?", From: "+15551230001", At: open, Contact: ana, Reopens: true},
			Decision{Reply: "Hi Ana, we open 9–18.", Kind: KindAutoReply, RuleID: 7, Close: true}},
		{"in a conversation already going on it only answers", Input{Body: "Hours?", From: "+15551230001", At: open, Contact: ana},
			Decision{Reply: "Hi Ana, we open 9–18.", Kind: KindAutoReply, RuleID: 7}},
		{"a missing name falls back", Input{Body: "hours", From: "+15551230001", At: open, Contact: nobody},
			Decision{Reply: "Hi there, we open 9–18.", Kind: KindAutoReply, RuleID: 7}},
		{"a missing field is empty, never withheld", Input{Body: "my refund", From: "+15551230001", At: open, Contact: nobody},
			Decision{Reply: "A person will look at your refund, .", Kind: KindAutoReply, RuleID: 8}},
		{"compliance wins over every rule", Input{Body: "hours", From: "+15551230001", At: open, Compliance: true}, Decision{}},
		{"no rule, open: a person", Input{Body: "hello", From: "+15551230001", At: open, Reopens: true}, Decision{}},
		{"03:58, a new conversation: acknowledged", Input{Body: "hello", From: "+15551230001", At: night, Reopens: true, Local: nyLoc},
			Decision{Reply: "We're closed now; an agent will answer from 9:00 today.", Kind: KindAfterHours}},
		{"the opening in the customer's zone", Input{Body: "hello", From: "+15551230001", At: night, Reopens: true, Local: la},
			Decision{Reply: "We're closed now; an agent will answer from 6:00 today.", Kind: KindAfterHours}},
		{"a second text of the open conversation: no second acknowledgement", Input{Body: "hello?", From: "+15551230001", At: night, Reopens: false}, Decision{}},
		{"reopened in the same closed period: already acknowledged", Input{Body: "hi", From: "+15551230001", At: night, Reopens: true,
			LastAckAt: night.Add(-time.Hour)}, Decision{}},
		{"reopened in a later closed period: acknowledged again", Input{Body: "hi", From: "+15551230001", At: night, Reopens: true,
			LastAckAt: night.Add(-72 * time.Hour), Local: nyLoc}, Decision{Reply: "We're closed now; an agent will answer from 9:00 today.", Kind: KindAfterHours}},
		{"a rule after hours still answers", Input{Body: "hours", From: "+15551230001", At: night, Contact: ana, Reopens: true},
			Decision{Reply: "Hi Ana, we open 9–18.", Kind: KindAutoReply, RuleID: 7, Close: true}},
		{"a short code gets nothing automated", Input{Body: "hours", From: "22395", At: open},
			Decision{Withheld: "the sender is a short code or an alphanumeric sender: no automated text"}},
		{"an alphanumeric sender gets no acknowledgement", Input{Body: "hi", From: "AIRLINE", At: night, Reopens: true},
			Decision{Withheld: "the sender is a short code or an alphanumeric sender: no automated text"}},
		{"the hourly limit", Input{Body: "my refund", From: "+15551230001", At: open, Contact: ana, History: []Automated{
			{At: open.Add(-10 * time.Minute), Body: "a"}, {At: open.Add(-20 * time.Minute), Body: "b"}, {At: open.Add(-30 * time.Minute), Body: "c"}}},
			Decision{Withheld: "this phone had its automated texts for the hour"}},
		{"the limit counts only the last hour", Input{Body: "my refund", From: "+15551230001", At: open, Contact: ana, History: []Automated{
			{At: open.Add(-10 * time.Minute), Body: "a"}, {At: open.Add(-20 * time.Minute), Body: "b"}, {At: open.Add(-70 * time.Minute), Body: "c"}}},
			Decision{Reply: "A person will look at your refund, Ana.", Kind: KindAutoReply, RuleID: 8}},
		{"never the same text twice in a row within 10 minutes", Input{Body: "hours", From: "+15551230001", At: open, Contact: ana,
			History: []Automated{{At: open.Add(-9 * time.Minute), Body: "Hi Ana, we open 9–18."}}},
			Decision{Withheld: "the same automated text went to this phone less than 10 minutes ago"}},
		{"the same text after 10 minutes", Input{Body: "hours", From: "+15551230001", At: open, Contact: ana,
			History: []Automated{{At: open.Add(-11 * time.Minute), Body: "Hi Ana, we open 9–18."}}},
			Decision{Reply: "Hi Ana, we open 9–18.", Kind: KindAutoReply, RuleID: 7}},
		{"a machine is handed to a person silently", Input{Body: "hours", From: "+15551230001", At: open.Add(time.Second), Contact: ana, History: []Automated{
			{At: open, Body: "x"}, {At: open.Add(-time.Minute), AnsweredAt: open.Add(-time.Minute + time.Second)},
			{At: open.Add(-2 * time.Minute), AnsweredAt: open.Add(-2*time.Minute + time.Second)}}},
			Decision{Attention: "the sender answers automated texts within 2 s: it looks like a machine, so automation stopped; a person should reply",
				Withheld: "the sender looks like a machine"}},
	}
	for _, c := range cases {
		if got := Decide(c.in, settings); got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
	// Always closed: the acknowledgement promises no time.
	closed := Settings{Hours: hours(t, ny, map[string][][]string{})}
	got := Decide(Input{Body: "hello", From: "+15551230001", At: open, Reopens: true}, closed)
	if got.Reply != "We're closed now; an agent will answer as soon as someone is available." {
		t.Errorf("always closed: %+v", got)
	}
	// The brand's own text.
	own := settings
	own.AfterHoursReply = "Hi {{default \"there\" .FirstName}}! Back {{.Opens}}."
	if got := Decide(Input{Body: "hello", From: "+15551230001", At: night, Reopens: true, Contact: ana, Local: nyLoc}, own); got.Reply != "Hi Ana! Back from 9:00 today." {
		t.Errorf("own acknowledgement: %+v", got)
	}
}

func TestNeedsContext(t *testing.T) {
	t.Parallel()
	s := Settings{Rules: []Rule{mustRule(t, Rule{ID: 1, Match: MatchExact, Pattern: "menu", Reply: "x"})},
		Hours: hours(t, ny, weekdays([]string{"09:00", "18:00"}))}
	if NeedsContext(s, "hello", local(t, ny, "2026-03-02 10:00")) {
		t.Error("no rule matches and the brand is open: nothing to read")
	}
	if !NeedsContext(s, "Menu!", local(t, ny, "2026-03-02 10:00")) || !NeedsContext(s, "hello", local(t, ny, "2026-03-02 20:00")) {
		t.Error("a matching rule or a closed brand needs the context")
	}
}

func TestSLADue(t *testing.T) {
	t.Parallel()
	h := hours(t, ny, weekdays([]string{"09:00", "12:00"}, []string{"14:00", "18:00"}))
	wall := Targets{FirstResponse: 30 * time.Minute, NextResponse: 10 * time.Minute}
	biz := Targets{FirstResponse: 30 * time.Minute, BusinessHours: true}
	cases := []struct {
		name     string
		t        Targets
		since    string
		answered bool
		want     string
	}{
		{"wall clock", wall, "2026-03-02 23:50", false, "2026-03-03 00:20"},
		{"next response", wall, "2026-03-02 23:50", true, "2026-03-03 00:00"},
		{"business hours: overnight", biz, "2026-03-02 23:50", false, "2026-03-03 09:30"},
		{"business hours: across lunch", biz, "2026-03-03 11:50", false, "2026-03-03 14:20"},
		{"business hours: Friday evening to Monday", biz, "2026-03-06 17:50", false, "2026-03-09 09:20"},
		{"business hours: across the DST change", biz, "2026-03-06 17:45", false, "2026-03-09 09:15"},
		{"business hours: fall back", biz, "2026-10-30 17:40", false, "2026-11-02 09:10"},
	}
	for _, c := range cases {
		got, ok := Due(c.t, h, local(t, ny, c.since), c.answered)
		if !ok || !got.Equal(local(t, ny, c.want)) {
			t.Errorf("%s: due %v (%v), want %s", c.name, got.In(h.Loc), ok, c.want)
		}
	}
	if _, ok := Due(Targets{}, h, local(t, ny, "2026-03-02 10:00"), false); ok {
		t.Error("no target, yet a due time")
	}
	if _, ok := Due(biz, hours(t, ny, map[string][][]string{}), local(t, ny, "2026-03-02 10:00"), false); ok {
		t.Error("an always-closed brand has a business-hours due time")
	}
}

// In Santiago clocks jump from 00:00 to 01:00 when DST starts (Sunday 8
// September 2024): that Sunday has no midnight, and must still be Sunday.
func TestScheduleWhereMidnightDoesNotExist(t *testing.T) {
	t.Parallel()
	const cl = "America/Santiago"
	h := hours(t, cl, map[string][][]string{"sun": {{"09:00", "17:00"}}})
	sat := local(t, cl, "2024-09-07 20:00")
	next, ok := h.NextOpening(sat)
	if !ok || !next.Equal(local(t, cl, "2024-09-08 09:00")) {
		t.Fatalf("next opening %v, want Sunday 8 September 09:00", next)
	}
	if got := h.ClosedSince(local(t, cl, "2024-09-08 18:00")); !got.Equal(local(t, cl, "2024-09-08 17:00")) {
		t.Fatalf("closed since %v, want Sunday 17:00", got)
	}
	if got := DescribeOpening(next, sat, h.Loc); got != "from 9:00 tomorrow" {
		t.Fatalf("described as %q", got)
	}
	due, ok := Due(Targets{FirstResponse: time.Hour, BusinessHours: true}, h, sat, false)
	if !ok || !due.Equal(local(t, cl, "2024-09-08 10:00")) {
		t.Fatalf("business-hours due %v, want Sunday 10:00", due)
	}
}

func TestOpenBetween(t *testing.T) {
	t.Parallel()
	h := hours(t, ny, weekdays([]string{"09:00", "12:00"}, []string{"14:00", "18:00"}))
	cases := []struct {
		name, a, b string
		want       time.Duration
	}{
		{"inside one stretch", "2026-03-03 09:30", "2026-03-03 10:15", 45 * time.Minute},
		{"across lunch", "2026-03-03 11:50", "2026-03-03 14:20", 30 * time.Minute},
		{"overnight", "2026-03-02 23:50", "2026-03-03 09:30", 30 * time.Minute},
		{"all closed", "2026-03-03 12:10", "2026-03-03 13:50", 0},
		{"Friday evening to Monday", "2026-03-06 17:50", "2026-03-09 09:20", 30 * time.Minute},
		{"a whole weekday", "2026-03-03 00:00", "2026-03-04 00:00", 7 * time.Hour},
		{"across the DST change", "2026-03-06 17:45", "2026-03-09 09:15", 30 * time.Minute},
		{"backwards", "2026-03-03 10:00", "2026-03-03 09:00", 0},
	}
	for _, c := range cases {
		if got := h.OpenBetween(local(t, ny, c.a), local(t, ny, c.b)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if got := (Hours{}).OpenBetween(local(t, ny, "2026-03-03 10:00"), local(t, ny, "2026-03-03 12:30")); got != 150*time.Minute {
		t.Errorf("no schedule: %v, want the wall-clock 2h30m", got)
	}
	// The inverse of AddOpen, over a year of starts and targets.
	for start := local(t, ny, "2026-01-01 00:00"); start.Year() == 2026; start = start.Add(37*time.Hour + 13*time.Minute) {
		for _, d := range []time.Duration{time.Minute, 95 * time.Minute, 9 * time.Hour} {
			end, ok := h.AddOpen(start, d)
			if !ok {
				t.Fatalf("AddOpen(%v, %v): never", start, d)
			}
			if got := h.OpenBetween(start, end); got != d {
				t.Fatalf("OpenBetween(%v, AddOpen(…, %v) = %v) = %v", start, d, end, got)
			}
		}
	}
}
