package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reply is a customer's text that answers an open question, with what the
// answer processor needs.
type Reply struct {
	AskID, QuestionID, BrandID, ContactID, ConversationID, MessageID int64
	Kind                                                             string
	Scale                                                            int
	Choices                                                          []string
	FollowUps                                                        map[string]string
	NoIsNegative                                                     bool
	Body, OptOutType                                                 string
	From, To                                                         string // the brand number it reached, and the customer's phone
	Assigned                                                         bool   // an agent holds the conversation
	LaterInbound                                                     bool   // the customer wrote again since
	Name, LoyaltyID                                                  string // what a follow-up may print
	Attributes                                                       map[string]any
}

// Answered is what the processor made of a reply.
type Answered struct {
	AskID int64
	// State: answered; open (a compliance keyword, not an answer: the
	// question still waits); closed (the customer opted out).
	State    string
	Parsed   bool
	Value    *int
	Choice   string
	Comment  string
	Negative string // low_rating or negative_answer: a person must call back
	// Attention, when set, asks a person to read the conversation.
	Attention string
	// Close the conversation: the answer needs nobody.
	Close bool
	// FollowUp is the text sent back ("" none).
	FollowUp       string
	FollowSegments int
	FollowEncoding string
}

// AnswerReplies takes up to limit replies waiting to be read as answers
// (skipping ones another process holds), lets decide judge them, and
// applies the outcomes in one transaction: the answer, the follow-up text
// (queued on the replies queue), a high priority with its reason for an
// unhappy answer, or a request for a person. It returns the follow-ups to
// enqueue and how many replies it handled.
func (s *Store) AnswerReplies(ctx context.Context, limit int, decide func([]Reply) []Answered) ([]Fired, int, error) {
	var fired []Fired
	var handled int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT a.id, a.question_id, a.brand_id, a.contact_id, a.conversation_id, m.id, q.kind, q.scale, q.choices, q.follow_ups,
				q.no_is_negative, m.body, coalesce(m.extra ->> 'OptOutType', ''), m.to_number, m.from_number, cv.assignee_id IS NOT NULL,
				EXISTS (SELECT 1 FROM messages l WHERE l.conversation_id = a.conversation_id AND l.direction = 'inbound' AND l.id > m.id),
				ct.name, coalesce(ct.loyalty_id, ''), ct.attributes
			FROM question_asks a
			JOIN contacts ct ON ct.id = a.contact_id
			JOIN questions q ON q.id = a.question_id
			JOIN messages m ON m.id = a.reply_message_id
			JOIN conversations cv ON cv.id = a.conversation_id
			WHERE a.state = 'replied' ORDER BY a.id LIMIT $1 FOR UPDATE OF a SKIP LOCKED`, limit)
		if err != nil {
			return err
		}
		var replies []Reply
		var r Reply
		var choices, follow, attrs []byte
		_, err = pgx.ForEachRow(rows, []any{&r.AskID, &r.QuestionID, &r.BrandID, &r.ContactID, &r.ConversationID, &r.MessageID, &r.Kind,
			&r.Scale, &choices, &follow, &r.NoIsNegative, &r.Body, &r.OptOutType, &r.From, &r.To, &r.Assigned, &r.LaterInbound,
			&r.Name, &r.LoyaltyID, &attrs}, func() error {
			x := r
			x.Choices, x.FollowUps, x.Attributes = nil, nil, nil
			if err := json.Unmarshal(attrs, &x.Attributes); err != nil {
				return err
			}
			if err := json.Unmarshal(choices, &x.Choices); err != nil {
				return err
			}
			if err := json.Unmarshal(follow, &x.FollowUps); err != nil {
				return err
			}
			replies = append(replies, x)
			return nil
		})
		if err != nil || len(replies) == 0 {
			return err
		}
		handled = len(replies)
		byAsk := make(map[int64]Reply, len(replies))
		for _, r := range replies {
			byAsk[r.AskID] = r
		}
		for _, o := range decide(replies) {
			r, ok := byAsk[o.AskID]
			if !ok {
				continue
			}
			if err := applyAnswer(ctx, tx, r, o); err != nil {
				return err
			}
			if o.FollowUp != "" && o.State == "answered" {
				q, err := queueOne(ctx, tx, OutboundRow{BrandID: r.BrandID, From: r.From, To: r.To, Body: o.FollowUp, Purpose: "conversational",
					Origin: "question", OriginRef: strconv.FormatInt(r.AskID, 10), Queue: "replies", Segments: o.FollowSegments,
					Encoding: o.FollowEncoding})
				if err != nil {
					return err
				}
				fired = append(fired, Fired{MessageID: q.ID, From: r.From, Queue: "replies"})
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: answer replies: %w", err)
	}
	return fired, handled, nil
}

func applyAnswer(ctx context.Context, tx pgx.Tx, r Reply, o Answered) error {
	switch o.State {
	case "open":
		_, err := tx.Exec(ctx, `UPDATE question_asks SET state = 'open', reply_message_id = NULL WHERE id = $1`, r.AskID)
		return err
	case "closed":
		_, err := tx.Exec(ctx, `UPDATE question_asks SET state = 'closed', answered_at = now() WHERE id = $1`, r.AskID)
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE question_asks SET state = 'answered', parsed = $2, value = $3, choice = $4, comment = $5,
			answer_text = $6, negative = $7, answered_at = now() WHERE id = $1`,
		r.AskID, o.Parsed, o.Value, o.Choice, o.Comment, r.Body, o.Negative); err != nil {
		return err
	}
	activity := func(kind, detail string) error {
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_activity (conversation_id, kind, detail) VALUES ($1, $2, $3)`,
			r.ConversationID, kind, detail); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify('parley_conversation', $1::bigint::text)`, r.ConversationID)
		return err
	}
	switch {
	case o.Negative != "":
		if _, err := tx.Exec(ctx, `UPDATE conversations SET priority = 'high', priority_reason = $2, status = 'open', snoozed_until = NULL,
				updated_at = now() WHERE id = $1`, r.ConversationID, o.Negative); err != nil {
			return err
		}
		return activity("priority", o.Negative)
	case o.Attention != "":
		if _, err := tx.Exec(ctx, `UPDATE conversations SET needs_attention = $2, status = 'open', snoozed_until = NULL, updated_at = now()
				WHERE id = $1`, r.ConversationID, o.Attention); err != nil {
			return err
		}
		return activity("attention", o.Attention)
	case o.Close && !r.Assigned && !r.LaterInbound:
		tag, err := tx.Exec(ctx, `UPDATE conversations SET status = 'closed', waiting_since = NULL, answered_at = now(), snoozed_until = NULL,
				updated_at = now() WHERE id = $1 AND assignee_id IS NULL AND needs_attention = '' AND priority = 'normal'`, r.ConversationID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return activity("closed", "answered a question; nobody needs to reply")
	}
	return nil
}

// ExpireQuestions closes the questions whose window has passed unanswered.
func (s *Store) ExpireQuestions(ctx context.Context) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE question_asks SET state = 'expired' WHERE state = 'open' AND expires_at < now()`)
	if err != nil {
		return 0, fmt.Errorf("store: expire questions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// QuestionByID returns one question.
func (s *Store) QuestionByID(ctx context.Context, id int64) (Question, error) {
	var q Question
	var choices, follow []byte
	var window int64
	err := s.Pool.QueryRow(ctx, `SELECT id, brand_id, kind, scale, choices, window_seconds, follow_ups, no_is_negative, created_at
		FROM questions WHERE id = $1`, id).Scan(&q.ID, &q.BrandID, &q.Kind, &q.Scale, &choices, &window, &follow, &q.NoIsNegative, &q.CreatedAt)
	if err == pgx.ErrNoRows {
		return q, fmt.Errorf("store: question %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return q, fmt.Errorf("store: question %d: %w", id, err)
	}
	q.Window = time.Duration(window) * time.Second
	if err := json.Unmarshal(choices, &q.Choices); err != nil {
		return q, err
	}
	return q, json.Unmarshal(follow, &q.FollowUps)
}

// AnswerRow is one asked question and its answer, if any.
type AnswerRow struct {
	ID, QuestionID, ContactID, ConversationID, TriggerID int64
	Kind, Origin, State                                  string
	AskedAt                                              time.Time
	Parsed                                               *bool
	Value                                                *int
	Choice, Comment, Text, Negative                      string
	AnsweredAt                                           *time.Time
	Tier, Timezone                                       string
	Variant                                              *int // the campaign variant that asked (nil outside campaigns)
}

const answerCols = `a.id, a.question_id, a.contact_id, a.conversation_id, coalesce(a.trigger_id, 0), q.kind, a.origin, a.state, a.asked_at,
	a.parsed, a.value, a.choice, a.comment, a.answer_text, a.negative, a.answered_at,
	coalesce(ct.attributes ->> 'tier', ''), ct.timezone, cr.variant`

// ContactAnswers lists a contact's questions and answers newest first
// below the id before, of the brands listed (nil: all).
func (s *Store) ContactAnswers(ctx context.Context, contactID int64, brandIDs []int64, before int64, limit int) ([]AnswerRow, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+answerCols+` FROM question_asks a JOIN questions q ON q.id = a.question_id
		JOIN contacts ct ON ct.id = a.contact_id LEFT JOIN campaign_recipients cr ON cr.message_id = a.message_id
		WHERE a.contact_id = $1 AND a.id < $2 AND ($3::bigint[] IS NULL OR a.brand_id = ANY($3)) ORDER BY a.id DESC LIMIT $4`,
		contactID, before, brandIDs, limit)
	if err != nil {
		return nil, fmt.Errorf("store: contact answers: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AnswerRow])
	if err != nil {
		return nil, fmt.Errorf("store: contact answers: %w", err)
	}
	return out, nil
}

// QuestionAnswers reads every ask of a question asked in [from, to),
// oldest first, after the id after, at most limit: the results are
// computed from them page by page.
func (s *Store) QuestionAnswers(ctx context.Context, questionID int64, from, to time.Time, after int64, limit int) ([]AnswerRow, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+answerCols+` FROM question_asks a JOIN questions q ON q.id = a.question_id
		JOIN contacts ct ON ct.id = a.contact_id LEFT JOIN campaign_recipients cr ON cr.message_id = a.message_id
		WHERE a.question_id = $1 AND a.asked_at >= $2 AND a.asked_at < $3 AND a.id > $4 ORDER BY a.id LIMIT $5`,
		questionID, from, to, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: question answers: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AnswerRow])
	if err != nil {
		return nil, fmt.Errorf("store: question answers: %w", err)
	}
	return out, nil
}

// CreateQuestion stores a question asked outside a rule (an agent's or an
// API text, a campaign, the after-conversation survey).
func (s *Store) CreateQuestion(ctx context.Context, q Question) (int64, error) {
	choices, err := json.Marshal(orEmpty(q.Choices))
	if err != nil {
		return 0, err
	}
	follow, err := json.Marshal(orEmptyMap(q.FollowUps))
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.Pool.QueryRow(ctx, `INSERT INTO questions (brand_id, kind, scale, choices, window_seconds, follow_ups, no_is_negative)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, q.BrandID, q.Kind, q.Scale, choices, int64(q.Window/time.Second), follow,
		q.NoIsNegative).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create question: %w", err)
	}
	return id, nil
}

// SurveyedSince says whether the conversation was sent the
// after-conversation survey since t.
func (s *Store) SurveyedSince(ctx context.Context, conversationID int64, t time.Time) (bool, error) {
	var yes bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM question_asks WHERE conversation_id = $1 AND origin = 'csat' AND asked_at >= $2)`,
		conversationID, t).Scan(&yes)
	if err != nil {
		return false, fmt.Errorf("store: surveyed: %w", err)
	}
	return yes, nil
}
