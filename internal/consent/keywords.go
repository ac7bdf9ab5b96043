// Package consent is the single source of truth on whether Parley may text a
// phone: what an inbound text means for consent (STOP, START, HELP and plain
// language revocations) and, from the ledger, whether a purpose may be sent.
package consent

import (
	"slices"
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
	// Join is the brand's opt-in keyword (a setting, e.g. JOIN): the first
	// step of a double opt-in to marketing. It is answered with a request
	// to confirm; a YES within DoubleOptInWindow records the consent.
	Join Action = "join"
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
// matched against the whole message after polite filler words and a leading
// "I want to" are trimmed (see core), so "Can you please stop texting me?" and
// "I want to stop receiving these texts" match "stop texting me" and "stop
// receiving these texts". Short, ambiguous phrases ("no more", "stop it") are
// not here: they are in maybes.
var revocations = revocationSet()

// texts are the ways a customer names our messages after "stop sending",
// "stop receiving", "stop the" and the like.
var texts = []string{
	"texts", "messages", "text messages", "sms",
	"these texts", "these messages", "these text messages", "the texts", "the messages",
	"your texts", "your messages", "all texts", "all messages", "all the texts", "all the messages",
	"all these texts", "all these messages", "any texts", "any messages", "any more texts", "any more messages",
}

// vague names of our messages, which only count after a verb of sending or
// receiving: "stop sending me these" is a revocation, "I don't want these" is
// not.
var vague = []string{"these", "them", "this", "those", "it"}

func revocationSet() map[string]bool {
	m := setOf(
		"stop all", "stop texting me", "stop texting", "stop texting us", "stop messaging me", "stop messaging",
		"stop contacting me", "stop contacting us", "stop sending", "stop sending me",
		"quit texting me", "quit texting", "quit messaging me", "quit messaging", "quit contacting me",
		"unsubscribe me", "unsubscribe me from this", "unsubscribe me from your list",
		"remove me", "remove me from your list", "remove me from this list", "remove me from the list",
		"remove me from your mailing list", "remove me from your texts", "remove my number",
		"take me off", "take me off your list", "take me off the list", "take me off this list",
		"take my number off your list",
		"opt me out", "opt out", "i opt out",
		"do not text me", "dont text me", "do not text", "dont text", "never text me", "never text me again",
		"do not contact me", "dont contact me", "do not message me", "dont message me",
		"never message me", "never contact me",
		"no more texts", "no more messages", "no more text messages", "no more texts please",
		"leave me alone", "cancel my subscription", "cancel texts", "cancel all texts",
		"stop", "unsubscribe", "stopall", "optout", "quit",
	)
	for _, t := range texts {
		for _, v := range []string{"stop", "quit", "stop sending", "stop sending me", "quit sending", "quit sending me",
			"stop receiving", "stop getting", "i dont want", "i do not want", "no more"} {
			m[v+" "+t] = true
		}
	}
	for _, t := range vague {
		for _, v := range []string{"stop sending", "stop sending me", "quit sending", "quit sending me", "stop receiving", "stop getting"} {
			m[v+" "+t] = true
		}
	}
	return m
}

// maybes are short messages that are a revocation in one conversation and a
// polite answer in another ("No more, thanks" to "anything else?"): a person
// decides.
var maybes = setOf("no more", "stop it")

// stopWords are the keywords that say nothing but "stop": a message made only
// of them ("STOP STOP", "stop, unsubscribe") is an opt-out.
var stopWords = setOf("stop", "stopall", "unsubscribe", "optout", "revoke", "quit")

// filler words around a revocation that do not change its meaning. They are
// trimmed from both ends only: "can" and "you" open a question ("Can you stop
// texting me?") but inside a message they carry meaning.
var filler = setOf("please", "pls", "plz", "kindly", "thanks", "thank", "you", "u", "thx", "ty",
	"now", "asap", "immediately", "ok", "okay", "hi", "hello", "hey", "just", "already", "again",
	"can", "could", "would", "will", "anymore", "forever")

// innerFiller are dropped wherever they are: they never change what a
// revocation means ("don't ever text me again", "stop please texting me").
var innerFiller = setOf("please", "pls", "plz", "kindly", "ever")

// intents open a revocation without changing it: "I want to stop receiving
// these texts" is "stop receiving these texts". Longest first.
var intents = [][]string{
	{"i", "would", "like", "you", "to"}, {"i", "would", "like", "to"}, {"id", "like", "you", "to"}, {"id", "like", "to"},
	{"i", "want", "you", "to"}, {"i", "need", "you", "to"}, {"i", "want", "to"}, {"i", "wish", "to"}, {"i", "need", "to"},
}

// tails close a revocation without changing it: "don't text me any more".
var tails = [][]string{{"any", "more"}, {"any", "longer"}}

// hints are fragments that might be a revocation inside a longer text; such a
// message is flagged for an agent rather than acted on.
var hints = []string{
	"stop texting", "stop messaging", "stop sending", "stop contacting", "stop receiving", "stop getting", "stop all",
	"quit texting", "quit messaging", "quit sending",
	"unsubscribe", "opt out", "opt me out", "optout", "remove me", "remove my number",
	"take me off", "take my number off", "dont text", "do not text", "dont message", "do not message",
	"dont contact", "do not contact", "no more texts", "no more messages", "leave me alone",
	"stop these", "stop the texts", "wrong number",
}

// paddedHints are the hints with a space on each side, so that they match
// whole words only; built once rather than per message.
var paddedHints = func() []string {
	out := make([]string, len(hints))
	for i, h := range hints {
		out[i] = " " + h + " "
	}
	return out
}()

// apostrophes are dropped before splitting ("don't" → "dont"). A Replacer is
// safe for concurrent use and costly to build, so there is one.
var apostrophes = strings.NewReplacer("'", "", "’", "")

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
	c, intent := core(words)
	key := strings.Join(c, " ")
	switch {
	case len(c) == 0:
	case intent && (key == "stop" || key == "quit"):
		return MaybeOptOut // "I want to stop", "I need to quit": stop what?
	case revocations[key], len(c) > 1 && allStopWords(c):
		return OptOut
	case maybes[key]:
		return MaybeOptOut
	}
	joined := " " + strings.Join(words, " ") + " "
	for _, h := range paddedHints {
		if strings.Contains(joined, h) {
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
	body = apostrophes.Replace(strings.ToLower(body))
	return strings.FieldsFunc(body, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// core is what a message says once the words that never change a revocation
// are gone: filler at both ends, filler that is safe anywhere, a leading "I
// want to" (intent says there was one) and a trailing "any more".
func core(words []string) (c []string, intent bool) {
	c = make([]string, 0, len(words))
	for _, w := range words {
		if !innerFiller[w] {
			c = append(c, w)
		}
	}
	c = trimFiller(c)
	for _, in := range intents {
		if hasPrefix(c, in) {
			c, intent = trimFiller(c[len(in):]), true
			break
		}
	}
	for _, t := range tails {
		if len(c) > len(t) && slices.Equal(c[len(c)-len(t):], t) {
			c = trimFiller(c[:len(c)-len(t)])
			break
		}
	}
	return c, intent
}

func hasPrefix(words, prefix []string) bool {
	return len(words) >= len(prefix) && slices.Equal(words[:len(prefix)], prefix)
}

func allStopWords(words []string) bool {
	for _, w := range words {
		if !stopWords[w] {
			return false
		}
	}
	return true
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
