package analytics

import (
	"slices"
	"strings"
	"unicode"
)

// Text is one customer text read for topics.
type Text struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
}

// Topic is a term or two-word phrase with the number of texts holding it.
type Topic struct {
	Term     string `json:"term"`
	Count    int    `json:"count"`
	Previous int    `json:"previous"`
	Examples []Text `json:"examples"`
	// Slack is how far short of the truth Previous may be (a rollup's
	// pruned days); Rising counts a rise only beyond it.
	Slack int `json:"-"`
}

// MaxExamples is how many texts a topic shows.
const MaxExamples = 3

// stopWords are words that say nothing about a topic, compliance keywords
// among them (an opt-out is counted by the consent figures).
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about after again all also am an and any are as at be because been before being
		but by can could did do does doing dont down for from get got had has have having he her here hers him his how i
		if im in into is it its ive just me more most my no nor not now of off on once only or other our ours out over
		please so some such than thank thanks that thats the their them then there these they this those through to too
		under until up us very was we were what when where which while who why will with would yes you your yours
		hi hello hey ok okay stop start help unstop cancel end quit unsubscribe`) {
		m[w] = true
	}
	return m
}()

// Tokens are the words of s that can name a topic: lower-cased letters and
// digits (an apostrophe dropped: "don't" is "dont"), without stop words,
// single characters or bare numbers. Each word left out, and each
// punctuation mark, is an empty entry, so a phrase never spans it.
func Tokens(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		w := b.String()
		b.Reset()
		switch {
		case w == "":
			return
		case stopWords[w] || len([]rune(w)) < 2 || isNumber(w):
			out = append(out, "")
		default:
			out = append(out, w)
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
		case strings.ContainsRune(".,!?;:", r):
			flush()
			out = append(out, "") // a phrase ends with its sentence
		default:
			flush()
		}
	}
	flush()
	return out
}

func isNumber(w string) bool {
	return strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) }) < 0
}

// Terms are the distinct terms and two-word phrases of one text.
func Terms(body string) []string {
	toks := Tokens(body)
	// Most texts hold a few terms: a linear look beats a map per text,
	// and a long text gets its map once it has 32.
	var out []string
	var seen map[string]bool
	add := func(t string) {
		switch {
		case seen != nil:
			if seen[t] {
				return
			}
			seen[t] = true
		case slices.Contains(out, t):
			return
		case len(out) == 32:
			seen = make(map[string]bool, 64)
			for _, o := range out {
				seen[o] = true
			}
			seen[t] = true
		}
		out = append(out, t)
	}
	for i, t := range toks {
		if t == "" {
			continue
		}
		add(t)
		if i+1 < len(toks) && toks[i+1] != "" {
			add(t + " " + toks[i+1])
		}
	}
	return out
}

// Counts is how many texts hold each term, with the first examples.
type Counts struct {
	n        map[string]int
	examples map[string][]Text
	slack    map[string]int // how far short n may be (nil: exact)
}

// Count reads texts (oldest first gives the oldest examples).
func Count(texts []Text) Counts {
	c := Counts{n: map[string]int{}, examples: map[string][]Text{}}
	for _, t := range texts {
		for _, term := range Terms(t.Body) {
			c.n[term]++
			if len(c.examples[term]) < MaxExamples {
				c.examples[term] = append(c.examples[term], t)
			}
		}
	}
	return c
}

// MinCount is the fewest texts a topic needs: one text is an anecdote.
const MinCount = 2

// Top are the n terms held by the most texts (at least MinCount), ties
// broken by the phrase first (it says more), then alphabetically.
func Top(cur, prev Counts, n int) []Topic {
	return rank(cur, prev, n, func(a, b Topic) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return tieBreak(a, b)
	}, func(Topic) bool { return true })
}

// Rising are the n terms whose count grew most against the previous
// period (at least MinCount now, and more than before even if the
// previous count is short by its slack), ties broken by the larger growth
// ratio, then as Top.
func Rising(cur, prev Counts, n int) []Topic {
	return rank(cur, prev, n, func(a, b Topic) int {
		pa, pb := a.Previous+a.Slack, b.Previous+b.Slack
		if da, db := a.Count-pa, b.Count-pb; da != db {
			return db - da
		}
		// a.Count/(pa+1) against b's, without division.
		if ra, rb := a.Count*(pb+1), b.Count*(pa+1); ra != rb {
			return rb - ra
		}
		return tieBreak(a, b)
	}, func(t Topic) bool { return t.Count > t.Previous+t.Slack })
}

func tieBreak(a, b Topic) int {
	pa, pb := strings.Contains(a.Term, " "), strings.Contains(b.Term, " ")
	if pa != pb {
		if pa {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Term, b.Term)
}

func rank(cur, prev Counts, n int, cmp func(a, b Topic) int, keep func(Topic) bool) []Topic {
	out := []Topic{}
	for term, c := range cur.n {
		t := Topic{Term: term, Count: c, Previous: prev.n[term], Slack: prev.slack[term]}
		if c >= MinCount && keep(t) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, cmp)
	if len(out) > n {
		out = out[:n]
	}
	for i := range out {
		out[i].Examples = cur.examples[out[i].Term]
	}
	return out
}
