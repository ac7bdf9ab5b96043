package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AnsweredCount is how many of a brand's texts that ask for an answer went
// out in a slot, and how many were answered.
type AnsweredCount struct {
	Slot           time.Time
	Sent, Answered int
}

// Relationship are the relationship figures of a period: proactive texts
// (triggers' texts, answered when the customer wrote back within 48 hours)
// and questions asked (answered when a reply came), per slot.
type Relationship struct {
	Proactive []AnsweredCount
	Questions []AnsweredCount
}

// AnalyticsRelationship reads the brand's proactive texts sent and
// questions asked in [from, to), by slot, through the proactive tables'
// brand and time indexes (migration 00031).
func (s *Store) AnalyticsRelationship(ctx context.Context, brandID int64, from, to time.Time) (Relationship, error) {
	var r Relationship
	rows, err := s.Pool.Query(ctx, `
		SELECT `+slotOf("t.done_at")+`, count(*),
		       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM messages i WHERE i.conversation_id = m.conversation_id AND i.id > m.id
		                                        AND i.direction = 'inbound' AND i.created_at < m.created_at + interval '48 hours'))
		  FROM trigger_runs t JOIN messages m ON m.id = t.message_id
		 WHERE t.brand_id = $1 AND t.state = 'sent' AND t.done_at >= $2 AND t.done_at < $3
		 GROUP BY 1`, brandID, from, to)
	if err != nil {
		return r, fmt.Errorf("store: analytics proactive: %w", err)
	}
	if r.Proactive, err = pgx.CollectRows(rows, pgx.RowToStructByPos[AnsweredCount]); err != nil {
		return r, fmt.Errorf("store: analytics proactive: %w", err)
	}
	rows, err = s.Pool.Query(ctx, `
		SELECT `+slotOf("asked_at")+`, count(*), count(*) FILTER (WHERE reply_message_id IS NOT NULL)
		  FROM question_asks WHERE brand_id = $1 AND asked_at >= $2 AND asked_at < $3
		 GROUP BY 1`, brandID, from, to)
	if err != nil {
		return r, fmt.Errorf("store: analytics questions: %w", err)
	}
	if r.Questions, err = pgx.CollectRows(rows, pgx.RowToStructByPos[AnsweredCount]); err != nil {
		return r, fmt.Errorf("store: analytics questions: %w", err)
	}
	return r, nil
}

// CustomerBase is a brand's customers as of the last engagement scoring
// (every 5 minutes): conversations open, and of the customers scored (who
// wrote in the last 90 days), those who wrote more than once, and the
// share of their texts written by the most engaged tenth (the power
// users). Zero values before the first scoring.
type CustomerBase struct {
	OpenConversations int
	Customers         int // wrote at least once in 90 days
	Repeat            int // wrote at least twice
	Texts             int // their texts in 90 days
	PowerUsers        int // the top tenth of the scored customers by score
	PowerUserTexts    int // the texts the power users wrote
	AsOf              *time.Time
}

// AnalyticsCustomerBase reads the brand's customer base: one row, kept by
// RefreshEngagement.
func (s *Store) AnalyticsCustomerBase(ctx context.Context, brandID int64) (CustomerBase, error) {
	var a CustomerBase
	var at time.Time
	err := s.Pool.QueryRow(ctx, `SELECT open_conversations, customers, repeat_customers, texts, power_users, power_user_texts, computed_at
		FROM engagement_summary WHERE brand_id = $1`, brandID).Scan(&a.OpenConversations, &a.Customers, &a.Repeat, &a.Texts, &a.PowerUsers,
		&a.PowerUserTexts, &at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return a, nil
	case err != nil:
		return a, fmt.Errorf("store: analytics customer base: %w", err)
	}
	a.AsOf = &at
	return a, nil
}
