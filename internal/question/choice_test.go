package question

import (
	"strings"
	"testing"
)

var seats = Spec{Kind: Choice, Choices: []string{"Window", "Aisle", "Middle"}}

var seatReplies = []reply{
	yes("B", 2, ""),
	yes("b)", 2, ""),
	yes("b.", 2, ""),
	yes("(b)", 2, ""),
	yes("Option B", 2, ""),
	yes("b please", 2, ""),
	yes("A", 1, ""),
	yes("a", 1, ""),
	yes("c", 3, ""),
	yes("C.", 3, ""),
	yes("choice c", 3, ""),
	yes("B) aisle", 2, ""),
	yes("2", 2, ""),
	yes("2)", 2, ""),
	yes("#2", 2, ""),
	yes("1", 1, ""),
	yes("3", 3, ""),
	yes("3.", 3, ""),
	yes("1️⃣", 1, ""),
	yes("option 3", 3, ""),
	yes("option #3", 3, ""),
	yes("number 2", 2, ""),
	yes("No. 2", 2, ""),
	yes("2 please", 2, ""),
	yes("2 is fine", 2, ""),
	yes("2 for me", 2, ""),
	yes("2 - aisle", 2, ""),
	yes("2 aisle", 2, ""),
	yes("two please", 2, ""),
	yes("the second one", 2, ""),
	yes("second", 2, ""),
	yes("2nd", 2, ""),
	yes("the third", 3, ""),
	yes("third", 3, ""),
	yes("3rd one", 3, ""),
	yes("the last one", 3, ""),
	yes("last", 3, ""),
	yes("first", 1, ""),
	yes("the first one", 1, ""),
	yes("1st", 1, ""),
	yes("first one please", 1, ""),
	yes("Aisle", 2, ""),
	yes("aisle please", 2, ""),
	yes("aisle!!", 2, ""),
	yes("Aisle 👍", 2, ""),
	yes("the aisle one", 2, ""),
	yes("Aisle seat please", 2, ""),
	yes("aisel", 2, ""),
	yes("aislee", 2, ""),
	yes("aisle, I have long legs", 2, "I have long legs"),
	yes("Window", 1, ""),
	yes("WINDOW!", 1, ""),
	yes("window 🙂", 1, ""),
	yes("windw", 1, ""),
	yes("Window, thanks!", 1, ""),
	yes("Window please 🙏", 1, ""),
	yes("I'd like the window", 1, ""),
	yes("window seat", 1, ""),
	yes("a window seat", 1, ""),
	yes("Middle", 3, ""),
	yes("midle", 3, ""),
	yes("middle is fine", 3, ""),
	yes("middle??", 3, ""),
	yes("isle", 2, ""),
	yes("no, aisle", 2, ""),
	yes("Can I get an aisle?", 2, ""),
	yes("aisle seat near the front", 2, "seat near the front"),
	yes("Window (if available)", 1, "(if available)"),
	yes("choice: B", 2, ""),
	yes("2nd option", 2, ""),
	yes("option two", 2, ""),
	yes("Number one", 1, ""),
	yes("one", 1, ""),
	yes("2️⃣", 2, ""),
	yes("I'll go with 2", 2, ""),
	yes("I said window last time", 1, "last time"),

	unread("4"),
	unread("0"),
	unread("D"),
	unread("i"),
	unread("the fourth"),
	unread("5th"),
	unread("a b"),
	unread("I'll take A"),
	unread("Window or aisle"),
	unread("aisle or window"),
	unread("aisle - no wait, window"),
	unread("window if possible, otherwise aisle"),
	unread("1 or 2"),
	unread("2 3"),
	unread("1 aisle"),
	unread("B) window"),
	unread("2 people"),
	unread("either"),
	unread("any"),
	unread("both"),
	unread("no preference"),
	unread("not the middle"),
	unread("Not window"),
	unread("no middle please"),
	unread("anything but middle"),
	unread("yes"),
	unread("idk"),
	unread("whatever is cheapest"),
	unread("We are 2, window"),
	unread("B or C"),
	unread("Aisle no middle"),
	unread("Don't put me in the middle"),
	unread("I'd rather not be in the middle"),
	unread("12345"),
	unread(""),
}

var menu = Spec{Kind: Choice, Choices: []string{"Pasta carbonara", "Risotto", "Crème brûlée"}}

var menuReplies = []reply{
	yes("creme brulee", 3, ""),
	yes("Crème brûlée", 3, ""),
	yes("CREME BRULEE!", 3, ""),
	yes("creme brûlée please", 3, ""),
	yes("brulee", 3, ""),
	yes("the brulee", 3, ""),
	yes("risotto!", 2, ""),
	yes("Risotto", 2, ""),
	yes("risoto", 2, ""),
	yes("rissoto", 2, ""),
	yes("Risotto 😋", 2, ""),
	yes("Risotto, no mushrooms please", 2, "no mushrooms please"),
	yes("risotto - I'm vegetarian", 2, "I'm vegetarian"),
	yes("risotto no cheese", 2, "no cheese"),
	yes("The risotto, thanks", 2, ""),
	yes("brulé", 3, ""),
	yes("the 2nd please", 2, ""),
	yes("the carbonara", 1, ""),
	yes("carbonara please", 1, ""),
	yes("carbonarra", 1, ""),
	yes("carbonera", 1, ""),
	yes("Pasta", 1, ""),
	yes("pasta carbonara", 1, ""),
	yes("The pasta sounds great", 1, "sounds great"),
	yes("1", 1, ""),
	yes("2", 2, ""),
	yes("#3", 3, ""),
	yes("C", 3, ""),
	yes("c)", 3, ""),
	yes("the first", 1, ""),
	yes("the last one", 3, ""),

	unread("pasta or risotto"),
	unread("risotto and the creme brulee"),
	unread("not the risotto"),
	unread("the vegan one"),
	unread("4"),
	unread("D"),
	unread("none"),
	unread("whatever you recommend"),
	unread("chicken"),
	unread("Risotto for me and pasta for my wife"),
	unread("carbonara x 2"),
}

func TestParseChoice(t *testing.T) {
	t.Parallel()
	if n := len(seatReplies) + len(menuReplies); n < 80 {
		t.Fatalf("only %d choice cases", n)
	}
	check(t, seats, seatReplies)
	check(t, menu, menuReplies)
}

func TestParseChoiceNumbersInChoices(t *testing.T) {
	t.Parallel()
	check(t, Spec{Kind: Choice, Choices: []string{"10am", "2pm", "4pm"}}, []reply{
		yes("10am", 1, ""),
		yes("10 am", 1, ""),
		yes("10", 1, ""), // the text, as there is no tenth choice
		yes("1", 1, ""),
		yes("2pm", 2, ""),
		yes("2", 2, ""), // the text and the number agree
		yes("4pm please", 3, ""),
		yes("4", 3, ""),
		yes("3", 3, ""),
		unread("10 or 2"),
	})
	// "2" is the first choice's text but the second choice's number.
	check(t, Spec{Kind: Choice, Choices: []string{"2 people", "4 people", "6 people"}}, []reply{
		yes("4 people", 2, ""),
		yes("6", 3, ""),
		unread("2"),
	})
	check(t, Spec{Kind: Choice, Choices: []string{"Yes", "No", "Maybe"}}, []reply{
		yes("yes", 1, ""),
		yes("No", 2, ""),
		yes("maybe", 3, ""),
		yes("B", 2, ""),
		unread("y"),
	})
	// A choice inside another names the longer one.
	check(t, Spec{Kind: Choice, Choices: []string{"Pasta", "Pasta carbonara"}}, []reply{
		yes("pasta", 1, ""),
		yes("pasta carbonara", 2, ""),
		yes("the latter", 2, ""),
		yes("the former", 1, ""),
	})
	many := Spec{Kind: Choice}
	for c := 'a'; c < 'a'+20; c++ {
		many.Choices = append(many.Choices, "Plan "+strings.ToUpper(string(c)))
	}
	check(t, many, []reply{
		yes("t", 20, ""),
		yes("20", 20, ""),
		yes("plan k", 11, ""),
		unread("u"),
		unread("21"),
	})
}
