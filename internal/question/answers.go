package question

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/hooks"
	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

// Attention is what an answer that could not be read asks of a person.
const Attention = "answer not understood: please read it"

// Judge decides what a reply to a question means: pure, from the reply
// alone. A compliance keyword is never an answer: STOP (or a possible
// revocation, which the inbound pipeline already flagged) closes the
// question; HELP and START leave it waiting. Otherwise the text is parsed;
// an unhappy answer gets a high priority with its reason, one that cannot
// be read asks a person to look, and a happy one closes the conversation
// (nobody needs to reply) unless an agent holds it.
func Judge(r store.Reply) store.Answered {
	o := store.Answered{AskID: r.AskID}
	switch consent.Classify(r.Body, r.OptOutType) {
	case consent.OptOut, consent.MaybeOptOut:
		o.State = "closed"
		return o
	case consent.Help, consent.OptIn, consent.Join:
		o.State = "open"
		return o
	}
	spec := Spec{Kind: Kind(r.Kind), Scale: r.Scale, Choices: r.Choices}
	a := Parse(spec, r.Body)
	o.State, o.Parsed, o.Choice, o.Comment = "answered", a.Parsed, a.Choice, a.Comment
	if a.Parsed && spec.Kind != FreeText {
		v := a.Value
		o.Value = &v
	}
	var key string
	switch {
	case !a.Parsed:
		o.Attention, key = Attention, "unparsed"
	default:
		if reason, neg := Negative(spec, a, r.NoIsNegative); neg {
			o.Negative, key = reason, "negative"
		} else {
			o.Close, key = true, "positive"
		}
	}
	o.FollowUp = followUp(r, spec, a, key)
	if o.FollowUp != "" {
		o.FollowSegments, o.FollowEncoding = segment.Count(o.FollowUp)
	}
	return o
}

// followUp picks the text sent back: the one for the exact answer ("5",
// "yes", a choice's number) if the question has it, else the one for its
// kind of answer (positive, negative, unparsed), else none.
func followUp(r store.Reply, spec Spec, a Answer, key string) string {
	if len(r.FollowUps) == 0 {
		return ""
	}
	var exact string
	if a.Parsed {
		switch spec.Kind {
		case YesNo:
			exact = a.Choice
		case FreeText:
		default:
			exact = strconv.Itoa(a.Value)
		}
	}
	body := ""
	if exact != "" {
		body = r.FollowUps[exact]
	}
	if body == "" {
		body = r.FollowUps[key]
	}
	if body == "" {
		return ""
	}
	out, err := personalize.Render(body, personalize.NewData(r.Name, r.To, r.LoyaltyID, r.Attributes))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// Enqueuer hands stored texts to the send queue (outbound.Outbox).
type Enqueuer interface {
	Enqueue(ctx context.Context, messageID int64, from, queue string)
}

// Processor reads replies to questions as answers, in every worker: each
// batch locks its replies (skipping those another process holds), so an
// answer is read once and its follow-up sent once.
type Processor struct {
	st         *store.Store
	out        Enqueuer
	log        *slog.Logger
	Batch      int
	lastExpiry time.Time
	// Hooks emits answer.received to the brand's webhooks (nil: none).
	Hooks *hooks.Service
}

// NewProcessor returns the answer processor.
func NewProcessor(st *store.Store, out Enqueuer, log *slog.Logger) *Processor {
	return &Processor{st: st, out: out, log: log, Batch: 200}
}

// Pass reads every waiting reply; it returns how many it handled. About
// once a minute it also closes the questions whose window passed.
func (p *Processor) Pass(ctx context.Context) int {
	if time.Since(p.lastExpiry) > time.Minute {
		p.lastExpiry = time.Now()
		if _, err := p.st.ExpireQuestions(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("expiring questions failed", "err", err)
		}
	}
	total := 0
	for ctx.Err() == nil {
		var replies []store.Reply
		var answers []store.Answered
		fired, n, err := p.st.AnswerReplies(ctx, p.Batch, func(rs []store.Reply) []store.Answered {
			out := make([]store.Answered, len(rs))
			for i, r := range rs {
				out[i] = Judge(r)
			}
			replies, answers = rs, out
			return out
		})
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("reading answers failed; retrying next pass", "err", err)
			}
			return total
		}
		for _, f := range fired {
			p.out.Enqueue(ctx, f.MessageID, f.From, f.Queue)
		}
		for i := range answers {
			p.Hooks.AnswerReceived(ctx, replies[i], answers[i])
		}
		total += n
		if n < p.Batch {
			return total
		}
	}
	return total
}
