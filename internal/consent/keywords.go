// Package consent is the single source of truth on whether Parley may text a
// phone: what an inbound text means for consent (STOP, START, HELP and plain
// language revocations) and, from the ledger, whether a purpose may be sent.
package consent

import (
	"strings"
	"unicode"
)

// Action is what an inbound text asks for, consent-wise.
type Action string

// The actions an inbound text can carry.
const (
	None        Action = ""
	OptOut      Action = "opt_out"       // both purposes, for that brand
	OptIn       Action = "opt_in"        // conversational only; marketing needs its own opt-in
	Help        Action = "help"          // answer with the brand's help text
	MaybeOptOut Action = "maybe_opt_out" // a person should look: it might be a revocation
)

// Purposes and states of the ledger.
const (
	Marketing      = "marketing"
	Conversational = "conversational"
	OptedIn        = "opted_in"
	OptedOut       = "opted_out"
	Unknown        = "unknown"
)

var keywords = map[string]Action{
	"STOP": OptOut, "STOPALL": OptOut, "UNSUBSCRIBE": OptOut, "CANCEL": OptOut,
	"END": OptOut, "QUIT": OptOut, "OPTOUT": OptOut, "REVOKE": OptOut,
	"START": OptIn, "YES": OptIn, "UNSTOP": OptIn,
	"HELP": Help, "INFO": Help,
}

// revocations are plain-language ways of saying "stop texting me" that count
// as an opt-out on their own (the FCC's "any reasonable means"). They are
// matched against the whole message after polite filler words are trimmed.
var revocations = setOf(
	"stop texting me", "stop texting", "stop texting us", "stop messaging me", "stop messaging",
	"stop sending me texts", "stop sending me messages", "stop sending texts", "stop sending messages",
	"stop sending me these", "stop contacting me", "stop all texts", "stop all messages",
	"stop the texts", "stop these texts", "stop these messages",
	"unsubscribe me", "i want to unsubscribe", "id like to unsubscribe", "unsubscribe me from this",
	"unsubscribe me from your list",
	"remove me", "remove me from your list", "remove me from this list", "remove me from the list",
	"remove me from your mailing list", "remove me from your texts", "remove my number",
	"take me off", "take me off your list", "take me off the list", "take me off this list",
	"take my number off your list",
	"opt me out", "opt out", "i want to opt out", "i opt out", "id like to opt out",
	"do not text me", "dont text me", "do not text", "dont text", "never text me again",
	"do not contact me", "dont contact me", "do not message me", "dont message me",
	"no more texts", "no more messages", "no more texts please", "no more",
	"leave me alone", "cancel my subscription", "cancel texts", "cancel all texts",
	"stop it", "stop", "unsubscribe", "stopall", "optout", "quit",
)

// filler words around a revocation that do not change its meaning.
var filler = setOf("please", "pls", "plz", "kindly", "thanks", "thank", "you", "thx", "ty",
	"now", "asap", "immediately", "ok", "okay", "hi", "hello", "hey", "just", "already", "again")

// hints are fragments that might be a revocation inside a longer text; such a
// message is flagged for an agent rather than acted on.
var hints = []string{
	"stop texting", "stop messaging", "stop sending", "stop contacting", "stop all",
	"unsubscribe", "opt out", "opt me out", "optout", "remove me", "remove my number",
	"take me off", "take my number off", "dont text", "do not text", "dont message", "do not message",
	"dont contact", "do not contact", "no more texts", "no more messages", "leave me alone",
	"stop these", "stop the texts", "wrong number",
}

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// Classify says what an inbound text means for consent. optOutType is Twilio's
// OptOutType field ("STOP", "START", "HELP" or empty), which wins when present.
func Classify(body, optOutType string) Action {
	switch strings.ToUpper(strings.TrimSpace(optOutType)) {
	case "STOP":
		return OptOut
	case "START":
		return OptIn
	case "HELP":
		return Help
	}
	word := strings.ToUpper(strings.Map(keepLetters, body))
	if a, ok := keywords[word]; ok && isSingleWord(body) {
		return a
	}
	words := normalWords(body)
	if len(words) == 0 {
		return None
	}
	core := trimFiller(words)
	if len(core) > 0 && revocations[strings.Join(core, " ")] {
		return OptOut
	}
	joined := " " + strings.Join(words, " ") + " "
	for _, h := range hints {
		if strings.Contains(joined, " "+h+" ") {
			return MaybeOptOut
		}
	}
	if len(words) > 1 && keywords[strings.ToUpper(words[0])] == OptOut && words[0] != "end" && words[0] != "cancel" {
		return MaybeOptOut // "Stop, I already booked"
	}
	return None
}

// isSingleWord reports whether body, punctuation and spaces aside, is one word:
// "stop!" and " Stop. " are keywords, "stop by tomorrow" is not.
func isSingleWord(body string) bool {
	return len(strings.FieldsFunc(body, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })) == 1
}

func keepLetters(r rune) rune {
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return r
	}
	return -1
}

// normalWords lowercases body, drops apostrophes ("don't" → "dont") and splits on
// anything that is not a letter or digit.
func normalWords(body string) []string {
	body = strings.NewReplacer("'", "", "’", "").Replace(strings.ToLower(body))
	return strings.FieldsFunc(body, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func trimFiller(words []string) []string {
	for len(words) > 0 && filler[words[0]] {
		words = words[1:]
	}
	for len(words) > 0 && filler[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	return words
}
