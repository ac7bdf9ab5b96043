package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// engagementScore is the score's formula, in SQL so that segments can
// filter on it (columns of engagement_scores):
//
//	40 × min(1, texts_in / 20)          how much they write
//	+ 30 × response_rate                how often they answer the brand
//	+ 20 × (1 − days since last text / 90)  how recently
//	+ 10 × min(1, log10(1 + followers) / 6) their reach (a million followers is full marks)
const engagementScore = `round(40 * least(1, x.texts_in / 20.0) + 30 * x.response_rate
	+ 20 * greatest(0, 1 - extract(epoch FROM now() - coalesce(x.last_inbound_at, now() - interval '90 days')) / 7776000)
	+ 10 * least(1, log(1 + x.followers) / 6))::int`

// RefreshEngagement recomputes every brand's engagement scores from the
// last 90 days of texts in one statement, dropping customers who went
// quiet; it returns how many scores it holds.
func (s *Store) RefreshEngagement(ctx context.Context) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			WITH m AS (
				SELECT m.brand_id, cv.contact_id, m.direction, m.created_at, m.origin,
					lag(m.direction) OVER w AS prev_dir, lag(m.created_at) OVER w AS prev_at
				FROM messages m JOIN conversations cv ON cv.id = m.conversation_id AND cv.merged_into IS NULL
				WHERE m.created_at > now() - interval '90 days'
				WINDOW w AS (PARTITION BY m.conversation_id ORDER BY m.id)),
			agg AS (
				SELECT brand_id, contact_id,
					count(*) FILTER (WHERE direction = 'inbound') AS texts_in,
					count(*) FILTER (WHERE direction = 'inbound' AND prev_dir = 'outbound' AND created_at - prev_at < interval '24 hours') AS replies,
					count(*) FILTER (WHERE direction = 'outbound' AND origin <> 'compliance') AS brand_texts,
					max(created_at) FILTER (WHERE direction = 'inbound') AS last_inbound_at
				FROM m GROUP BY brand_id, contact_id
				HAVING count(*) FILTER (WHERE direction = 'inbound') > 0),
			x AS (
				SELECT a.brand_id, a.contact_id, a.texts_in, a.replies, a.brand_texts,
					CASE WHEN a.brand_texts > 0 THEN least(1, a.replies::real / a.brand_texts) ELSE 0 END AS response_rate,
					a.last_inbound_at,
					coalesce(CASE WHEN jsonb_typeof(ct.attributes -> 'followers') = 'number' THEN (ct.attributes ->> 'followers')::numeric
						WHEN jsonb_typeof(ct.attributes -> 'follower_count') = 'number' THEN (ct.attributes ->> 'follower_count')::numeric END, 0)::bigint AS followers
				FROM agg a JOIN contacts ct ON ct.id = a.contact_id)
			INSERT INTO engagement_scores (brand_id, contact_id, texts_in, replies, brand_texts, response_rate, last_inbound_at, followers, score, computed_at)
			SELECT x.brand_id, x.contact_id, x.texts_in, x.replies, x.brand_texts, x.response_rate, x.last_inbound_at, greatest(x.followers, 0),
				`+engagementScore+`, now()
			FROM x
			ON CONFLICT (brand_id, contact_id) DO UPDATE SET texts_in = excluded.texts_in, replies = excluded.replies,
				brand_texts = excluded.brand_texts, response_rate = excluded.response_rate, last_inbound_at = excluded.last_inbound_at,
				followers = excluded.followers, score = excluded.score, computed_at = excluded.computed_at`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM engagement_scores WHERE computed_at < now()`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, summarizeEngagement); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM engagement_scores`).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: refresh engagement: %w", err)
	}
	return n, nil
}

// SummarizeEngagement stores each brand's customer base (CustomerBase)
// from the scores as they are and its open conversations; RefreshEngagement
// does it after every scoring.
func (s *Store) SummarizeEngagement(ctx context.Context) error {
	if _, err := s.Pool.Exec(ctx, summarizeEngagement); err != nil {
		return fmt.Errorf("store: summarize engagement: %w", err)
	}
	return nil
}

const summarizeEngagement = `
	INSERT INTO engagement_summary (brand_id, customers, repeat_customers, texts, power_users, power_user_texts, open_conversations, computed_at)
	SELECT b.id, coalesce(e.customers, 0), coalesce(e.repeat, 0), coalesce(e.texts, 0), coalesce(e.power, 0), coalesce(e.power_texts, 0),
	       coalesce(o.open, 0), now()
	  FROM brands b
	  LEFT JOIN (SELECT brand_id, count(*) AS customers, count(*) FILTER (WHERE texts_in >= 2) AS repeat, sum(texts_in) AS texts,
	                    count(*) FILTER (WHERE rank <= top) AS power, coalesce(sum(texts_in) FILTER (WHERE rank <= top), 0) AS power_texts
	               FROM (SELECT brand_id, texts_in, row_number() OVER (PARTITION BY brand_id ORDER BY score DESC, contact_id) AS rank,
	                            ceil(count(*) OVER (PARTITION BY brand_id) / 10.0) AS top
	                       FROM engagement_scores) r
	              GROUP BY brand_id) e ON e.brand_id = b.id
	  LEFT JOIN (SELECT brand_id, count(*) AS open FROM conversations WHERE status = 'open' AND merged_into IS NULL GROUP BY brand_id) o
	         ON o.brand_id = b.id
	ON CONFLICT (brand_id) DO UPDATE SET customers = excluded.customers, repeat_customers = excluded.repeat_customers,
		texts = excluded.texts, power_users = excluded.power_users, power_user_texts = excluded.power_user_texts,
		open_conversations = excluded.open_conversations, computed_at = excluded.computed_at`

// PowerUser is one ranked customer of a brand with what their score is
// made of.
type PowerUser struct {
	ContactID     int64
	Name          string
	LoyaltyID     string
	Tier          string
	TextsIn       int
	Replies       int
	BrandTexts    int
	ResponseRate  float32
	LastInboundAt *time.Time
	Followers     int64
	Score         int
	ComputedAt    time.Time
}

// PowerUsers ranks a brand's customers by engagement score, after the
// (score, contact) cursor when afterScore >= 0.
func (s *Store) PowerUsers(ctx context.Context, brandID int64, afterScore int, afterContact int64, limit int) ([]PowerUser, error) {
	if afterScore < 0 {
		afterScore, afterContact = 1<<30, 0
	}
	rows, err := s.Pool.Query(ctx, `SELECT e.contact_id, ct.name, coalesce(ct.loyalty_id, ''), coalesce(ct.attributes ->> 'tier', ''),
			e.texts_in, e.replies, e.brand_texts, e.response_rate, e.last_inbound_at, e.followers, e.score, e.computed_at
		FROM engagement_scores e JOIN contacts ct ON ct.id = e.contact_id
		WHERE e.brand_id = $1 AND (e.score, -e.contact_id) < ($2, -$3::bigint)
		ORDER BY e.score DESC, e.contact_id LIMIT $4`, brandID, afterScore, afterContact, limit)
	if err != nil {
		return nil, fmt.Errorf("store: power users: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PowerUser])
	if err != nil {
		return nil, fmt.Errorf("store: power users: %w", err)
	}
	return out, nil
}
