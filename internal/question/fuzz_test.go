package question

import (
	"strings"
	"testing"
)

// FuzzParse reads any text as an answer to every kind of question: Parse
// must not panic, must keep the trimmed text, and a parsed answer must be
// in range, with a comment taken from the text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"5", "4 out of 5", "10/10", "4,5", "⭐️⭐️⭐️⭐️", "★★★☆☆", "5️⃣", "1️⃣0️⃣", "four and a half",
		"1 - lost my bag", "3 or 4", "12345", "+1 555 0100", "yes, see you then", "nah I'm good", "yse",
		"👍🏽", "B) aisle", "(b)", "the second one", "Crème brûlée please", "aisel", "e\u0301", "\xff\xfe5 \xc3",
		"", "  \u00a0 ", "#2", "٣",
	} {
		f.Add(s)
	}
	specs := []Spec{
		{Kind: Rating}, {Kind: Rating, Scale: 10}, {Kind: Rating, Scale: 2}, {Kind: NPS}, {Kind: YesNo},
		seats, menu, {Kind: Choice, Choices: []string{"10am", "2pm", "4pm"}}, {Kind: FreeText},
	}
	f.Fuzz(func(t *testing.T, text string) {
		trimmed := strings.TrimSpace(text)
		for _, s := range specs {
			a := Parse(s, text)
			if a.Text != trimmed {
				t.Fatalf("%s: Text %q, want %q", s.Kind, a.Text, trimmed)
			}
			Negative(s, a, true)
			if !a.Parsed {
				if a.Value != 0 || a.Choice != "" || a.Comment != trimmed {
					t.Fatalf("%s: unparsed %q gave %+v", s.Kind, text, a)
				}
				continue
			}
			if !strings.Contains(a.Text, a.Comment) {
				t.Fatalf("%s: comment %q is not from %q", s.Kind, a.Comment, a.Text)
			}
			ok := false
			switch s.Kind {
			case Rating:
				scale := s.Scale
				if scale == 0 {
					scale = defaultScale
				}
				ok = a.Value >= 1 && a.Value <= scale && a.Choice == ""
			case NPS:
				ok = a.Value >= 0 && a.Value <= 10 && a.Choice == ""
			case YesNo:
				ok = a.Value == 1 && a.Choice == "yes" || a.Value == 0 && a.Choice == "no"
			case Choice:
				ok = a.Value >= 1 && a.Value <= len(s.Choices) && a.Choice == s.Choices[a.Value-1]
			case FreeText:
				ok = a.Value == 0 && a.Choice == "" && a.Comment == a.Text && a.Text != ""
			}
			if !ok {
				t.Fatalf("%s: %q gave %+v", s.Kind, text, a)
			}
		}
	})
}
