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
		// Clear revocations with filler around them, or said another way.
		{"Can you please stop texting me?", "", OptOut}, {"Please don't text me anymore", "", OptOut},
		{"STOP ALL", "", OptOut}, {"STOP STOP", "", OptOut}, {"stop, stop, STOP", "", OptOut},
		{"Quit texting me", "", OptOut}, {"I want to stop receiving these texts", "", OptOut},
		{"Could you stop messaging me", "", OptOut}, {"Would you please stop sending me these", "", OptOut},
		{"Don't ever text me again", "", OptOut}, {"never text me again", "", OptOut},
		{"please don't text me any more", "", OptOut}, {"I'd like to stop getting these messages", "", OptOut},
		{"I don't want any more texts", "", OptOut}, {"i want to unsubscribe", "", OptOut},
		// Might be a revocation: flagged for a person.
		{"can you stop texting me about sales but keep flight updates", "", MaybeOptOut},
		{"How do I unsubscribe from the newsletter?", "", MaybeOptOut},
		{"Stop, I already booked", "", MaybeOptOut},
		{"You have the wrong number", "", MaybeOptOut},
		// Short answers that are a revocation only in some conversations.
		{"No more, thanks", "", MaybeOptOut}, {"no more", "", MaybeOptOut}, {"Stop it", "", MaybeOptOut},
		{"stop it please", "", MaybeOptOut},
		{"I want to stop", "", MaybeOptOut}, {"I need to quit", "", MaybeOptOut},
		// Not consent at all.
		{"", "", None}, {"Hi, my flight is late", "", None}, {"I'm at the bus stop", "", None},
		{"stop by the lounge later?", "", MaybeOptOut},
		{"yes please book it", "", None}, {"The end of the movie was great", "", None},
		{"helpful agent, thanks", "", None}, {"Can I cancel my booking?", "", None},
		{"stopwatch", "", None}, {"stop by the lounge", "", MaybeOptOut}, {"I don't want these", "", None},
		{"Can you stop by the desk?", "", None}, {"I have no more questions", "", None},
		{"can I change my seat please", "", None}, {"Yes please, can you book it again?", "", None},
	}
	for _, tt := range tests {
		if got := Classify(tt.body, tt.optOutType); got != tt.want {
			t.Errorf("Classify(%q, %q) = %q, want %q", tt.body, tt.optOutType, got, tt.want)
		}
	}
}

// Every listed revocation, typed as it is listed, is an opt-out: an entry that
// the filler trimming makes unreachable would be a dead rule.
func TestRevocationsAreReachable(t *testing.T) {
	t.Parallel()
	for r := range revocations {
		if got := Classify(r, ""); got != OptOut {
			t.Errorf("Classify(%q) = %q: the revocation can never match", r, got)
		}
	}
	for m := range maybes {
		if got := Classify(m, ""); got != MaybeOptOut {
			t.Errorf("Classify(%q) = %q, want %q", m, got, MaybeOptOut)
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
