package consent

import (
	"strings"
	"testing"
)

// FuzzClassify: any text has one meaning, the same every time; Twilio's
// OptOutType wins over the words; and a text that is exactly a keyword
// in another case means the same.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"STOP", "stop", "Stop please", "I want to stop", "UNSUBSCRIBE", "start", "help!", "don't text me",
		"Stop, I already booked", "", "🙂", "S T O P", "end", "cancel my booking"} {
		f.Add(s, "")
	}
	f.Add("hello", "STOP")
	f.Fuzz(func(t *testing.T, body, optOutType string) {
		a := Classify(body, optOutType)
		if b := Classify(body, optOutType); a != b {
			t.Fatalf("%q: %v then %v", body, a, b)
		}
		switch strings.ToUpper(strings.TrimSpace(optOutType)) {
		case "STOP":
			if a != OptOut {
				t.Fatalf("OptOutType STOP gave %v", a)
			}
		case "START":
			if a != OptIn {
				t.Fatalf("OptOutType START gave %v", a)
			}
		}
		// Only where changing case is reversible (no ß, no dotless i).
		lower, upper := strings.ToLower(body), strings.ToUpper(body)
		if strings.TrimSpace(optOutType) == "" && strings.ToLower(upper) == lower && Classify(lower, "") != Classify(upper, "") {
			t.Fatalf("%q means something else in another case", body)
		}
	})
}
