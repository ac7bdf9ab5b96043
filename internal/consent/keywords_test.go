package consent

import "testing"

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, optOutType string
		want             Action
	}{
		// The STOP family, any case, spaces and punctuation ignored.
		{"STOP", "", OptOut}, {"stop", "", OptOut}, {"  Stop. ", "", OptOut}, {"STOP!!!", "", OptOut},
		{"StopAll", "", OptOut}, {"unsubscribe", "", OptOut}, {"Cancel", "", OptOut}, {"end", "", OptOut},
		{"QUIT", "", OptOut}, {"optout", "", OptOut}, {"Revoke", "", OptOut}, {"\"stop\"", "", OptOut},
		{"opt-out", "", OptOut},
		// Opt back in, help.
		{"START", "", OptIn}, {"yes", "", OptIn}, {"Unstop", "", OptIn}, {"Yes!", "", OptIn},
		{"HELP", "", Help}, {"info", "", Help}, {"Help?", "", Help},
		// Twilio's Advanced Opt-Out matched a keyword.
		{"arrêt", "STOP", OptOut}, {"whatever", "START", OptIn}, {"aide", "HELP", Help},
		// Plain-language revocations.
		{"Please stop texting me", "", OptOut}, {"please stop texting me!", "", OptOut},
		{"Stop texting me please", "", OptOut}, {"unsubscribe me", "", OptOut},
		{"Remove me from your list", "", OptOut}, {"remove me from your list, thanks", "", OptOut},
		{"Take me off your list", "", OptOut}, {"Don't text me", "", OptOut}, {"DO NOT TEXT ME", "", OptOut},
		{"No more texts please", "", OptOut}, {"opt me out", "", OptOut}, {"I want to opt out", "", OptOut},
		{"Stop please", "", OptOut}, {"please stop", "", OptOut}, {"Leave me alone", "", OptOut},
		{"Stop sending me messages", "", OptOut}, {"don’t contact me", "", OptOut},
		// Might be a revocation: flagged for a person.
		{"can you stop texting me about sales but keep flight updates", "", MaybeOptOut},
		{"How do I unsubscribe from the newsletter?", "", MaybeOptOut},
		{"Stop, I already booked", "", MaybeOptOut},
		{"You have the wrong number", "", MaybeOptOut},
		// Not consent at all.
		{"", "", None}, {"Hi, my flight is late", "", None}, {"I'm at the bus stop", "", None},
		{"stop by the lounge later?", "", MaybeOptOut},
		{"yes please book it", "", None}, {"The end of the movie was great", "", None},
		{"helpful agent, thanks", "", None}, {"Can I cancel my booking?", "", None},
		{"stopwatch", "", None},
	}
	for _, tt := range tests {
		if got := Classify(tt.body, tt.optOutType); got != tt.want {
			t.Errorf("Classify(%q, %q) = %q, want %q", tt.body, tt.optOutType, got, tt.want)
		}
	}
}

func TestReply(t *testing.T) {
	t.Parallel()
	if got := Reply(OptOut, "Demo Air", ""); got == "" || !contains(got, "Demo Air") || !contains(got, "START") {
		t.Fatalf("opt-out reply %q should name the brand and how to opt back in", got)
	}
	if got := Reply(Help, "Demo Air", "Call 555"); got != "Call 555" {
		t.Fatalf("help reply = %q, want the brand's help text", got)
	}
	if got := Reply(None, "Demo Air", ""); got != "" {
		t.Fatalf("no action should have no reply, got %q", got)
	}
	if got := Reply(MaybeOptOut, "Demo Air", ""); got != "" {
		t.Fatalf("a possible opt-out is for a person, not an automatic reply; got %q", got)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
