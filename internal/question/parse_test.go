package question

import (
	"errors"
	"strings"
	"testing"
)

// A reply and what Parse must read in it. Value, Choice and Comment are
// checked only for a parsed reply; an unparsed one must come back with
// Value 0, no Choice and the whole (trimmed) text as its Comment.
type reply struct {
	in      string
	parsed  bool
	value   int
	comment string
}

func yes(in string, value int, comment string) reply { return reply{in, true, value, comment} }
func unread(in string) reply                         { return reply{in: in} }

func check(t *testing.T, s Spec, cases []reply) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.in] {
			t.Errorf("case %q is listed twice", c.in)
		}
		seen[c.in] = true
		got := Parse(s, c.in)
		text := strings.TrimSpace(c.in)
		want := Answer{Text: text, Comment: text}
		if c.parsed {
			want = Answer{Parsed: true, Value: c.value, Comment: c.comment, Text: text}
			switch s.Kind {
			case YesNo:
				want.Choice = "no"
				if c.value == 1 {
					want.Choice = "yes"
				}
			case Choice:
				want.Choice = s.Choices[c.value-1]
			}
		}
		if got != want {
			t.Errorf("Parse(%v, %q)\n got %+v\nwant %+v", s.Kind, c.in, got, want)
		}
	}
}

var ratingReplies = []reply{
	yes("5", 5, ""),
	yes("5!", 5, ""),
	yes("5.", 5, ""),
	yes(" 5 ", 5, ""),
	yes("5/5", 5, ""),
	yes("4 out of 5", 4, ""),
	yes("4 of 5", 4, ""),
	yes("4 outta 5", 4, ""),
	yes("4 / 5", 4, ""),
	yes("10/10", 5, ""),
	yes("3/10", 2, ""), // 1.5 rounds up
	yes("7/10", 4, ""), // 3.5 rounds up
	yes("9/10", 5, ""),
	yes("6 out of 10", 3, ""),
	yes("8/10 would fly again", 4, "would fly again"),
	yes("4.5/5", 5, ""),
	yes("five", 5, ""),
	yes("Five!", 5, ""),
	yes("FIVE", 5, ""),
	yes("fiv", 5, ""),
	yes("fvie", 5, ""),
	yes("fiiive", 5, ""),
	yes("fuor", 4, ""),
	yes("thre", 3, ""),
	yes("one", 1, ""),
	yes("two", 2, ""),
	yes("three!", 3, ""),
	yes("Four.", 4, ""),
	yes("Four stars", 4, ""),
	yes("FIVE STARS!!", 5, ""),
	yes("five out of five", 5, ""),
	yes("One star. Never again", 1, "Never again"),
	yes("4.5", 5, ""),
	yes("4,5", 5, ""),
	yes("4.4", 4, ""),
	yes("4,5 the food was great", 5, "the food was great"),
	yes("⭐⭐⭐⭐⭐", 5, ""),
	yes("⭐️⭐️⭐️⭐️", 4, ""),
	yes("🌟🌟🌟🌟🌟", 5, ""),
	yes("⭐ ⭐ ⭐", 3, ""),
	yes("★★★☆☆", 3, ""),
	yes("★★★☆☆ seat was tight", 3, "seat was tight"),
	yes("5 ⭐", 5, ""),
	yes("4 ⭐️", 4, ""),
	yes("3 ⭐⭐⭐", 3, ""),
	yes("5/5 ⭐⭐⭐⭐⭐", 5, ""),
	yes("⭐⭐⭐⭐⭐ 5/5", 5, ""),
	yes("5 stars", 5, ""),
	yes("5 stars!! Thank you", 5, ""),
	yes("4*", 4, ""),
	yes("5️⃣", 5, ""),
	yes("1️⃣", 1, ""),
	yes("５", 5, ""),
	yes("#1", 1, ""),
	yes("a 4", 4, ""),
	yes("I'd say 4", 4, ""),
	yes("I’d say 4", 4, ""),
	yes("solid 4", 4, ""),
	yes("Rating: 4", 4, ""),
	yes("I would give it a 4", 4, ""),
	yes("a 3 i guess", 3, ""),
	yes("4 - great crew", 4, "great crew"),
	yes("1 - lost my bag", 1, "lost my bag"),
	yes("2, food was cold", 2, "food was cold"),
	yes("2 out of 5, the wifi never worked", 2, "the wifi never worked"),
	yes("1/5 never again", 1, "never again"),
	yes("3 stars - meh", 3, "meh"),
	yes("4 because the lounge was closed", 4, "because the lounge was closed"),
	yes("Id say a 3 tbh", 3, "tbh"),
	yes("5 - the crew was lovely 😊", 5, "the crew was lovely 😊"),
	yes("5!!!!!!", 5, ""),
	yes("5 😊", 5, ""),
	yes("😊 5", 5, ""),
	yes("5🙏", 5, ""),
	yes("4 thanks", 4, ""),
	yes("5 5 5", 5, ""),
	yes("Great crew, 5", 5, "Great crew"),
	yes("waited 2 hours. 1", 1, "waited 2 hours."),
	yes("1st time flying, 5", 5, "1st time flying"),
	yes("no one helped, 1", 1, "no one helped"),
	yes("one of the best flights, 5", 5, "one of the best flights"),
	yes("Landed at 5:30, 4", 4, "Landed at 5:30"),
	yes("2 or 3 hours late, 1", 1, "2 or 3 hours late"),
	yes("4½", 5, ""),
	yes("3½ ⭐", 4, ""),
	yes("Four and a half", 5, ""),
	yes("4 and a half stars", 5, ""),
	yes("The 2 of us loved it 5", 5, "The 2 of us loved it"),
	yes("I give it one star", 1, ""),
	yes("⭐⭐⭐⭐ great service", 4, "great service"),
	yes("threee", 3, ""),
	yes("fove", 5, ""),
	yes("Gate 12 was chaos, 2", 2, "Gate 12 was chaos"),
	yes("Room 5 was dirty. 2", 2, "Room 5 was dirty."),

	unread("10!!! loved it"), // out of range on a scale of 5
	unread("7"),
	unread("0"),
	unread("0/5"),
	unread("zero"),
	unread("none"),
	unread("⭐⭐⭐⭐⭐⭐"),
	unread("☆☆☆"),
	unread("3 or 4"),
	unread("5 or 4"),
	unread("4-5"),
	unread("between 3 and 4"),
	unread("4 or five"),
	unread("maybe 3 maybe 4"),
	unread("1 2 3 4 5"),
	unread("12345"),
	unread("flight 1234 was great"),
	unread("+1 555 0100"),
	unread("call me at 555-0100"),
	unread("5/12"),
	unread("7/5"),
	unread("5:30"),
	unread("-1"),
	unread("50%"),
	unread("1st time flying with you"),
	unread("4-5 min wait though"),
	unread("3 for the food, 5 for the crew"),
	unread("Room 5 was dirty"),
	unread("Call me at 5"),
	unread("Not a 5"),
	unread("not even a 1"),
	unread("Top 3 airline"),
	unread("Thanks, 2 questions though"),
	unread("4 ⭐⭐⭐⭐⭐"),
	unread("no stars"),
	unread("tree"),
	unread("fire"),
	unread("on"),
	unread("to"),
	unread("for"),
	unread("fine"),
	unread("nice"),
	unread("excellent"),
	unread("perfect"),
	unread("amazing"),
	unread("thanks!"),
	unread("👍"),
	unread(""),
	unread("   "),
}

func TestParseRating(t *testing.T) {
	t.Parallel()
	check(t, Spec{Kind: Rating}, ratingReplies)
	check(t, Spec{Kind: Rating, Scale: 5}, ratingReplies)
}

func TestParseRatingOtherScales(t *testing.T) {
	t.Parallel()
	check(t, Spec{Kind: Rating, Scale: 10}, []reply{
		yes("10!!! loved it", 10, "loved it"),
		yes("7", 7, ""),
		yes("🔟", 10, ""),
		yes("4/5", 8, ""),
		yes("3 out of 5", 6, ""),
		yes("9.5", 10, ""),
		yes("⭐⭐⭐⭐⭐⭐⭐", 7, ""),
		unread("0"),
		unread("11"),
	})
	check(t, Spec{Kind: Rating, Scale: 3}, []reply{
		yes("3", 3, ""),
		yes("5/5", 3, ""),
		yes("4/5", 2, ""), // 2.4
		yes("2.5", 3, ""),
		unread("4"),
	})
}

var npsReplies = []reply{
	yes("9", 9, ""),
	yes("10", 10, ""),
	yes("0", 0, ""),
	yes("zero", 0, ""),
	yes("Zero.", 0, ""),
	yes("none", 0, ""),
	yes("none!", 0, ""),
	yes("ten", 10, ""),
	yes("Ten!", 10, ""),
	yes("nine", 9, ""),
	yes("nien", 9, ""),
	yes("sevn", 7, ""),
	yes("eigth", 8, ""),
	yes("10!!! loved it", 10, "loved it"),
	yes("8 - great crew", 8, "great crew"),
	yes("I'd say 8", 8, ""),
	yes("a 9", 9, ""),
	yes("solid 8", 8, ""),
	yes("8/10 would fly again", 8, "would fly again"),
	yes("NPS 9", 9, ""),
	yes("nps: 10", 10, ""),
	yes("Score: 7", 7, ""),
	yes("10/10", 10, ""),
	yes("8/10", 8, ""),
	yes("8 / 10", 8, ""),
	yes("8 of 10", 8, ""),
	yes("4/5", 8, ""),
	yes("7 out of 10", 7, ""),
	yes("7 out of ten", 7, ""),
	yes("seven out of ten", 7, ""),
	yes("ten out of ten", 10, ""),
	yes("9 out of 10 easily", 9, "easily"),
	yes("10/10 would recommend", 10, "would recommend"),
	yes("9.5", 10, ""),
	yes("7,5", 8, ""),
	yes("7.4", 7, ""),
	yes("5.5", 6, ""),
	yes("🔟", 10, ""),
	yes("1️⃣0️⃣", 10, ""),
	yes("9️⃣", 9, ""),
	yes("#9", 9, ""),
	yes("９", 9, ""),
	yes("10 - best airline ever", 10, "best airline ever"),
	yes("6, the wifi was down", 6, "the wifi was down"),
	yes("3. Lost my luggage.", 3, "Lost my luggage."),
	yes("0 - never again", 0, "never again"),
	yes("0. Terrible", 0, "Terrible"),
	yes("7 because the check-in took forever", 7, "because the check-in took forever"),
	yes("The app crashed twice. 4", 4, "The app crashed twice."),
	yes("2 hours late, 3", 3, "2 hours late"),
	yes("9 🙂", 9, ""),
	yes("9 👍", 9, ""),
	yes("⭐⭐⭐⭐⭐⭐⭐⭐", 8, ""),
	yes("5 stars", 5, ""),
	yes("Definitely a 10", 10, ""),
	yes("probably 7", 7, ""),
	yes("maybe a 6", 6, ""),
	yes("10 10 10", 10, ""),
	yes("10+", 10, ""),
	yes("I'd give you guys a 9", 9, ""),
	yes("a 7 i guess", 7, ""),
	yes("Honestly? 6. The seats were awful", 6, "The seats were awful"),
	yes("10 always", 10, "always"),

	unread("11"),
	unread("100"),
	unread("100%"),
	unread("6 or 7"),
	unread("between 6 and 7"),
	unread("9 10"),
	unread("7-8"),
	unread("7 to 8"),
	unread("8 or 9"),
	unread("nine or ten"),
	unread("8 (would be 10 if the wifi worked)"),
	unread("8/12"),
	unread("12/10"),
	unread("12345"),
	unread("555-123-4567"),
	unread("-5"),
	unread("2 hours late"),
	unread("at 5pm"),
	unread("on"),
	unread("to"),
	unread("for"),
	unread("no"),
	unread("yes"),
	unread("hmm"),
	unread("STOP"),
	unread("Would you like me to call?"),
	unread("great"),
}

func TestParseNPS(t *testing.T) {
	t.Parallel()
	check(t, Spec{Kind: NPS}, npsReplies)
}

var yesNoReplies = []reply{
	yes("yes", 1, ""),
	yes("y", 1, ""),
	yes("Y", 1, ""),
	yes("yep", 1, ""),
	yes("yeah", 1, ""),
	yes("yea", 1, ""),
	yes("ya", 1, ""),
	yes("yup", 1, ""),
	yes("yeh", 1, ""),
	yes("yh", 1, ""),
	yes("sure", 1, ""),
	yes("ok", 1, ""),
	yes("okay", 1, ""),
	yes("k", 1, ""),
	yes("K.", 1, ""),
	yes("absolutely", 1, ""),
	yes("definitely", 1, ""),
	yes("of course", 1, ""),
	yes("Of course!", 1, ""),
	yes("certainly", 1, ""),
	yes("please", 1, ""),
	yes("yes please", 1, ""),
	yes("yess please", 1, ""),
	yes("correct", 1, ""),
	yes("right", 1, ""),
	yes("That's correct", 1, ""),
	yes("Alright", 1, ""),
	yes("confirmed", 1, ""),
	yes("Yes, confirmed", 1, ""),
	yes("yes sir", 1, ""),
	yes("👍", 1, ""),
	yes("👍🏽", 1, ""),
	yes("✅", 1, ""),
	yes("✔️", 1, ""),
	yes("✔", 1, ""),
	yes("☑️", 1, ""),
	yes("yes!!", 1, ""),
	yes("YES", 1, ""),
	yes("Yes.", 1, ""),
	yes("yeah!", 1, ""),
	yes("Yess", 1, ""),
	yes("yesss", 1, ""),
	yes("yse", 1, ""),
	yes("sí", 1, ""),
	yes("si", 1, ""),
	yes("oui", 1, ""),
	yes("ja", 1, ""),
	yes("Oui merci", 1, ""),
	yes("Ja bitte", 1, ""),
	yes("Sí, gracias", 1, ""),
	yes("Si claro", 1, "claro"),
	yes("yes!!! thank you 😊", 1, ""),
	yes("yeah sure", 1, ""),
	yes("Sure thing!", 1, ""),
	yes("ok 👍", 1, ""),
	yes("Yeah 👍", 1, ""),
	yes("Yes ✅", 1, ""),
	yes("Correct 👍", 1, ""),
	yes("Right, thanks", 1, ""),
	yes("yes yes", 1, ""),
	yes("k thx", 1, ""),
	yes("Thanks, yes", 1, ""),
	yes("hi yes", 1, ""),
	yes("Hey! Yes that works", 1, ""),
	yes("Please do", 1, ""),
	yes("I think so", 1, ""),
	yes("I do", 1, ""),
	yes("We did, thanks!", 1, ""),
	yes("yes, see you then", 1, "see you then"),
	yes("Yes I'd like that", 1, ""), // nothing but fillers after the answer
	yes("Yes but the room was dirty", 1, "but the room was dirty"),
	yes("Yes, all good now", 1, "all good now"),
	yes("Yes, at 3pm", 1, "at 3pm"),
	yes("Yes!! See you Tuesday 🙂", 1, "See you Tuesday 🙂"),

	yes("no", 0, ""),
	yes("n", 0, ""),
	yes("N", 0, ""),
	yes("No.", 0, ""),
	yes("NO!!!", 0, ""),
	yes("Nooo", 0, ""),
	yes("nope", 0, ""),
	yes("nope!", 0, ""),
	yes("Nope 👎", 0, ""),
	yes("nah", 0, ""),
	yes("NAH", 0, ""),
	yes("no thanks", 0, ""),
	yes("Noo thanks", 0, ""),
	yes("not really", 0, ""),
	yes("not at all", 0, ""),
	yes("never", 0, ""),
	yes("Never again", 0, ""),
	yes("nope, never", 0, ""),
	yes("negative", 0, ""),
	yes("👎", 0, ""),
	yes("❌", 0, ""),
	yes("✖️", 0, ""),
	yes("no way", 0, ""),
	yes("non", 0, ""),
	yes("nein", 0, ""),
	yes("Nein danke", 0, ""),
	yes("nej", 0, ""),
	yes("Sorry, no", 0, ""),
	yes("Sadly no", 0, ""),
	yes("Unfortunately not", 0, ""),
	yes("Absolutely not", 0, ""),
	yes("of course not", 0, ""),
	yes("I don't think so", 0, ""),
	yes("It didn't", 0, ""),
	yes("nah I'm good", 0, "I'm good"),
	yes("Nah mate", 0, "mate"),
	yes("no - the flight was late", 0, "the flight was late"),
	yes("No, I still don't have my bag", 0, "I still don't have my bag"),
	yes("Negative, it's still broken", 0, "it's still broken"),
	yes("The flight was late, so no", 0, "The flight was late, so"),
	yes("The agent never called back. no", 0, "The agent never called back."),
	yes("Can't", 0, ""),
	yes("not yet", 0, ""),
	yes("Nope not yet", 0, ""),
	yes("noe", 0, ""),
	yes("Definately", 1, ""),
	yes("absolutly", 1, ""),
	yes("Yesssss!!!", 1, ""),
	yes("Yes 👍🏻👍🏻", 1, ""),
	yes("✅✅", 1, ""),
	yes("We already did, thanks", 1, ""),
	yes("Thank you so much! Yes", 1, ""),
	yes("Yes, no problem", 1, "no problem"),
	yes("Sure, why not", 1, "why not"),
	yes("No!!! I want a refund", 0, "I want a refund"),
	yes("not interested", 0, ""),
	yes("Please!", 1, ""),

	unread("yes and no"),
	unread("yes or no"),
	unread("Yes. No wait"),
	unread("yes no"),
	unread("yes maybe"),
	unread("Ok maybe"),
	unread("yes 👎"),
	unread("👍👎"),
	unread("maybe"),
	unread("mabye"),
	unread("perhaps"),
	unread("possibly"),
	unread("not sure"),
	unread("I'm not sure"),
	unread("idk"),
	unread("dunno"),
	unread("no idea"),
	unread("I don't know"),
	unread("kind of"),
	unread("sort of"),
	unread("no problem"),
	unread("no worries"),
	unread("It didn't work"),
	unread("y not"),
	unread("yeah nah"),
	unread("Please stop texting me"),
	unread("no one called"),
	unread("Right now I'm busy"),
	unread("Who is this? No"),
	unread("yes.no"),
	unread("yet"),
	unread("fine"),
	unread("who is this?"),
	unread("what?"),
	unread("STOP"),
	unread("5"),
	unread(""),
}

func TestParseYesNo(t *testing.T) {
	t.Parallel()
	check(t, Spec{Kind: YesNo}, yesNoReplies)
}

func TestParseFreeText(t *testing.T) {
	t.Parallel()
	s := Spec{Kind: FreeText}
	for _, in := range []string{"Loved it", "5", "  the crew was great\n", "no", "\xff\xfe", "🙂"} {
		text := strings.TrimSpace(in)
		if got, want := Parse(s, in), (Answer{Parsed: true, Comment: text, Text: text}); got != want {
			t.Errorf("Parse(free_text, %q) = %+v, want %+v", in, got, want)
		}
	}
	for _, in := range []string{"", " \t\n ", "\u00a0"} {
		if got := Parse(s, in); got != (Answer{}) {
			t.Errorf("Parse(free_text, %q) = %+v, want an empty unparsed answer", in, got)
		}
	}
}

func TestParseLeniency(t *testing.T) {
	t.Parallel()
	// Fields that do not apply to the kind are ignored.
	if a := Parse(Spec{Kind: NPS, Scale: 10, Choices: []string{"x"}}, "9"); !a.Parsed || a.Value != 9 {
		t.Errorf("NPS with a scale: %+v", a)
	}
	// A spec Validate refuses reads nothing.
	for _, s := range []Spec{{Kind: Rating, Scale: 11}, {Kind: Choice, Choices: []string{"one"}}, {Kind: "stars"}} {
		if a := Parse(s, "1"); a.Parsed || a.Comment != "1" || a.Text != "1" {
			t.Errorf("Parse(%+v, 1) = %+v, want unparsed", s, a)
		}
	}
	// An overlong text is left for a person.
	long := "5 " + strings.Repeat("a", maxReplyBytes)
	if a := Parse(Spec{Kind: Rating}, long); a.Parsed || a.Comment != long {
		t.Errorf("overlong reply parsed: %v", a.Parsed)
	}
	// Invalid UTF-8 is no obstacle.
	if a := Parse(Spec{Kind: Rating}, "\xff4\xfe stars \xc3"); !a.Parsed || a.Value != 4 {
		t.Errorf("invalid UTF-8: %+v", a)
	}
	// A reply of 1600 characters is read in one pass.
	words := strings.Repeat("the crew was lovely and the seat was comfy ", 37)
	if a := Parse(Spec{Kind: NPS}, words+"10"); !a.Parsed || a.Value != 10 || a.Comment != strings.TrimSpace(words) {
		t.Errorf("long reply: %+v", a)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, s := range []Spec{
		{Kind: Rating},
		{Kind: Rating, Scale: 2},
		{Kind: Rating, Scale: 10},
		{Kind: NPS},
		{Kind: YesNo},
		{Kind: FreeText},
		seats,
		menu,
		{Kind: Choice, Choices: []string{"👍", "👎"}},
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", s, err)
		}
	}
	twentyOne := make([]string, 21)
	for i := range twentyOne {
		twentyOne[i] = strings.Repeat("x", i+1)
	}
	for _, c := range []struct {
		s     Spec
		field string
		say   string
	}{
		{Spec{}, "kind", `unknown kind ""`},
		{Spec{Kind: "stars"}, "kind", `unknown kind "stars"`},
		{Spec{Kind: Rating, Scale: 1}, "scale", "got 1"},
		{Spec{Kind: Rating, Scale: 11}, "scale", "from 2 to 10"},
		{Spec{Kind: Rating, Scale: -5}, "scale", "got -5"},
		{Spec{Kind: NPS, Scale: 10}, "scale", "only a rating question"},
		{Spec{Kind: YesNo, Choices: []string{"yes", "no"}}, "choices", "only a choice question"},
		{Spec{Kind: Choice}, "choices", "got 0"},
		{Spec{Kind: Choice, Choices: []string{"Window"}}, "choices", "2 to 20 choices, got 1"},
		{Spec{Kind: Choice, Choices: twentyOne}, "choices", "got 21"},
		{Spec{Kind: Choice, Choices: []string{"Window", "  ", "Aisle"}}, "choices", "choice 2 is empty"},
		{Spec{Kind: Choice, Choices: []string{"Window", "Aisle", "aisle "}}, "choices", "choices 2 and 3 are the same"},
		{Spec{Kind: Choice, Choices: []string{"Crème brûlée", "Risotto", "CREME BRULEE"}}, "choices", "choices 1 and 3"},
	} {
		err := c.s.Validate()
		var se *SpecError
		if !errors.As(err, &se) || se.Field != c.field || !strings.Contains(err.Error(), c.say) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("Validate(%+v) = %v, want a %s error saying %q", c.s, err, c.field, c.say)
		}
	}
}

func TestNegative(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s      Spec
		reply  string
		noNeg  bool
		reason string
	}{
		{Spec{Kind: Rating}, "1", false, "low_rating"},
		{Spec{Kind: Rating}, "2", false, "low_rating"},
		{Spec{Kind: Rating}, "2 - lost my bag", true, "low_rating"},
		{Spec{Kind: Rating}, "3", false, ""},
		{Spec{Kind: Rating}, "5", false, ""},
		{Spec{Kind: Rating, Scale: 10}, "4", false, "low_rating"},
		{Spec{Kind: Rating, Scale: 10}, "5", false, ""},
		{Spec{Kind: Rating, Scale: 3}, "1", false, "low_rating"},
		{Spec{Kind: Rating, Scale: 3}, "2", false, ""},
		{Spec{Kind: Rating, Scale: 2}, "1", false, ""}, // 40% of 2 rounds down to 0
		{Spec{Kind: Rating}, "excellent", false, ""},   // not parsed
		{Spec{Kind: NPS}, "0", false, "low_rating"},
		{Spec{Kind: NPS}, "6", false, "low_rating"},
		{Spec{Kind: NPS}, "7", false, ""},
		{Spec{Kind: NPS}, "10", false, ""},
		{Spec{Kind: NPS}, "idk", false, ""},
		{Spec{Kind: YesNo}, "no", true, "negative_answer"},
		{Spec{Kind: YesNo}, "nope, still broken", true, "negative_answer"},
		{Spec{Kind: YesNo}, "no", false, ""},
		{Spec{Kind: YesNo}, "yes", true, ""},
		{Spec{Kind: YesNo}, "maybe", true, ""},
		{seats, "1", true, ""},
		{Spec{Kind: FreeText}, "terrible", true, ""},
	} {
		reason, ok := Negative(c.s, Parse(c.s, c.reply), c.noNeg)
		if reason != c.reason || ok != (c.reason != "") {
			t.Errorf("Negative(%v, %q, %v) = %q, %v; want %q", c.s.Kind, c.reply, c.noNeg, reason, ok, c.reason)
		}
	}
}

func TestTableSizes(t *testing.T) {
	t.Parallel()
	for name, n := range map[string]int{
		"rating": len(ratingReplies),
		"nps":    len(npsReplies),
		"yes_no": len(yesNoReplies),
		"choice": len(seatReplies) + len(menuReplies),
	} {
		if n < 80 {
			t.Errorf("%s: %d cases, want at least 80", name, n)
		}
	}
}

func TestWithinEdits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		k    int
		want bool
	}{
		{"fvie", "five", 1, true},
		{"fiv", "five", 1, true},
		{"five", "five", 0, true},
		{"aisel", "aisle", 1, true},
		{"carbonera", "carbonara", 2, true},
		{"crbonra", "carbonara", 2, true},
		{"nice", "five", 1, false},
		{"abc", "abcdef", 2, false},
		{"", "ab", 2, true},
		{"ca", "abc", 1, false},
	} {
		if got := withinEdits(c.a, c.b, c.k); got != c.want {
			t.Errorf("withinEdits(%q, %q, %d) = %v", c.a, c.b, c.k, got)
		}
	}
}

var benchReplies = []struct {
	s    Spec
	text string
}{
	{Spec{Kind: Rating}, "5"},
	{Spec{Kind: Rating}, "1 - lost my bag"},
	{Spec{Kind: Rating}, "⭐️⭐️⭐️⭐️"},
	{Spec{Kind: Rating}, "4 out of 5, the crew was lovely 😊"},
	{Spec{Kind: NPS}, "I'd say 8"},
	{Spec{Kind: NPS}, "10!!! loved it"},
	{Spec{Kind: YesNo}, "yes, see you then"},
	{Spec{Kind: YesNo}, "nah I'm good"},
	{Spec{Kind: YesNo}, "Yess"},
	{seats, "B) aisle"},
	{seats, "the second one"},
	{menu, "creme brulee please"},
	{menu, "risoto"},
	{Spec{Kind: FreeText}, "The crew was great"},
}

// BenchmarkParseLong reads replies of 1600 characters, the longest a text
// message is.
func BenchmarkParseLong(b *testing.B) {
	long := []string{
		strings.Repeat("qwzx vbnmk plokij 4 ", 80),
		strings.Repeat("aisel windw yse fvie mabye ", 60)[:1600],
		strings.Repeat("⭐️👍🏽é", 100),
		strings.Repeat("1 ", 800),
	}
	for b.Loop() {
		for _, text := range long {
			for _, s := range []Spec{{Kind: Rating}, {Kind: YesNo}, menu} {
				Parse(s, text)
			}
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		for _, r := range benchReplies {
			Parse(r.s, r.text)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchReplies)), "ns/reply")
}
