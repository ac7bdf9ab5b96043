package analytics

import (
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// EventKind is what happened in a conversation, as response times see it.
type EventKind int

// The events of a conversation that response times read.
const (
	// Inbound is a customer's text.
	Inbound EventKind = iota
	// AgentReply is an outbound text a person wrote (origin agent). Auto
	// replies, compliance answers, campaigns and triggers are not.
	AgentReply
	// Closed is the conversation being closed, by a person or automatically.
	Closed
	// AutoReply is an automatic answer to the customer (origin auto_reply
	// or after_hours): it answers no wait for a person's figures, but says
	// the customer heard back.
	AutoReply
)

// Event is one entry of a conversation's history.
type Event struct {
	Conversation int64
	Kind         EventKind
	At           time.Time
	// Actor is the user who wrote an AgentReply (0: unknown).
	Actor int64
}

// Episode is one wait of a customer: it starts at the conversation's first
// inbound text, or at the first after a close (the text that reopens it).
type Episode struct {
	Conversation int64
	Start        time.Time
	// FirstResponse is the first person's reply after Start (nil: none yet).
	FirstResponse *time.Time
	// Resolved is the close that ended the episode (nil: still open).
	Resolved *time.Time
	// Responder is the Actor of the first response (0: none or unknown).
	Responder int64
	// AutoReply is the first automatic answer before any person's (nil:
	// none came first).
	AutoReply *time.Time
	// Next are the next responses: after the first response, each time
	// the customer wrote again, until a person answered.
	Next []Span
	// Pending is the customer's text still waiting for a person's next
	// response when the events end (nil: none; a close ends it).
	Pending *time.Time
}

// Span is a next response: the customer's first text after a person's
// reply, and the person's next reply. It is the rollup's own type, so a
// stored wait's spans are used as they are read.
type Span = store.Span

// Episodes cuts events, ordered by conversation then time, into episodes.
// A reply or close outside an episode (an agent writing first, a closed
// conversation closed again) starts nothing.
func Episodes(events []Event) []Episode {
	var out []Episode
	open := -1 // index in out of the conversation's open episode
	var conv int64
	for _, e := range events {
		if e.Conversation != conv {
			conv, open = e.Conversation, -1
		}
		switch e.Kind {
		case Inbound:
			if open < 0 {
				out = append(out, Episode{Conversation: e.Conversation, Start: e.At})
				open = len(out) - 1
			} else if ep := &out[open]; ep.FirstResponse != nil && ep.Pending == nil {
				at := e.At
				ep.Pending = &at
			}
		case AgentReply:
			if open < 0 {
				break
			}
			switch ep := &out[open]; {
			case ep.FirstResponse == nil:
				at := e.At
				ep.FirstResponse, ep.Responder = &at, e.Actor
			case ep.Pending != nil:
				ep.Next, ep.Pending = append(ep.Next, Span{Asked: *ep.Pending, Answered: e.At}), nil
			}
		case AutoReply:
			if open >= 0 && out[open].FirstResponse == nil && out[open].AutoReply == nil {
				at := e.At
				out[open].AutoReply = &at
			}
		case Closed:
			if open >= 0 {
				at := e.At
				out[open].Resolved, out[open].Pending = &at, nil
				open = -1
			}
		}
	}
	return out
}

// WithOpenWaits puts, before each conversation's events, an Inbound at
// open[conversation] for a conversation whose customer was already waiting
// when the events begin, so that their texts in the wait start nothing.
// events must be ordered by conversation, as Episodes wants them.
func WithOpenWaits(events []Event, open map[int64]time.Time) []Event {
	if len(open) == 0 {
		return events
	}
	waits := make(map[int64]Episode, len(open))
	for id, at := range open {
		waits[id] = Episode{Start: at} // nothing answered it yet
	}
	return WithStoredWaits(events, waits)
}

// WithStoredWaits is WithOpenWaits for waits already computed: before each
// conversation's events it replays what its open wait open[conversation]
// holds — the text that began it, the first automatic answer, the first
// response and a customer's text still waiting for the next — so that the
// events carry it on exactly as if they had been read from its start
// (the next responses before them are the stored wait's own).
func WithStoredWaits(events []Event, open map[int64]Episode) []Event {
	if len(open) == 0 {
		return events
	}
	out := make([]Event, 0, len(events)+4*len(open))
	var conv int64
	for i, e := range events {
		if i == 0 || e.Conversation != conv {
			conv = e.Conversation
			if w, ok := open[conv]; ok {
				out = append(out, Event{Conversation: conv, Kind: Inbound, At: w.Start})
				if w.AutoReply != nil {
					out = append(out, Event{Conversation: conv, Kind: AutoReply, At: *w.AutoReply})
				}
				if w.FirstResponse != nil {
					out = append(out, Event{Conversation: conv, Kind: AgentReply, At: *w.FirstResponse, Actor: w.Responder})
				}
				if w.Pending != nil {
					out = append(out, Event{Conversation: conv, Kind: Inbound, At: *w.Pending})
				}
			}
		}
		out = append(out, e)
	}
	return out
}
