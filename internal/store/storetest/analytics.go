package storetest

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// AnalyticsData is the size and span of a brand's history SeedAnalytics
// writes.
type AnalyticsData struct {
	Conversations, Texts int
	// The texts are spread evenly over [From, To), in id order.
	From, To time.Time
}

// SeedAnalytics writes, in a few set-based statements, a brand's history
// for the analytics benchmarks: d.Conversations contacts each with a
// conversation, d.Texts texts (blocks of ten consecutive texts to one
// conversation: customers' texts (one of ten phrases and two words of a
// long tail) and, between them, agent replies,
// auto-replies, campaign and trigger texts, one outbound in ten failed or
// undelivered with its error code, one in twenty still queued), a close
// after each block and an opt-in or opt-out for one conversation in two.
// The rows carry their own created_at, so the analytics rollups must not
// have folded past d.From (a fresh database has folded nothing).
func SeedAnalytics(ctx context.Context, pool *pgxpool.Pool, brandID int64, d AnalyticsData) error {
	step := d.To.Sub(d.From) / time.Duration(d.Texts)
	words := `(ARRAY['my flight is late','seat upgrade please','refund for my bag','wifi on board','where is my gate',
		'change my booking','lost luggage again','meal options vegan','window seat please','delayed connection help'])`
	// After the phrase, two of 5,000 words, the low-numbered far more
	// often (a cube of a uniform spread): a long tail of terms and of
	// two-word phrases, as customers write.
	tail := `('w' || floor(power(((g::bigint * 7919) % 10007) / 10007.0, 3) * 5000)::int || ' w' || floor(power(((g::bigint * 104729) % 10009) / 10009.0, 3) * 5000)::int)`
	// Every statement takes every argument, typed, whether it uses it or not.
	typed := `WITH args AS (SELECT $1::bigint, $2::int, $3::timestamptz, $4::timestamptz, $5::int, $6::interval) `
	for _, q := range []string{
		`INSERT INTO contacts (name) SELECT 'Seed ' || g FROM generate_series(1, $2) g`,
		`INSERT INTO conversations (brand_id, contact_id, last_phone, status, created_at, last_message_at)
			SELECT $1, c.id, '+1212' || lpad(c.id::text, 7, '0'), 'open', $3, $4
			  FROM contacts c WHERE c.name LIKE 'Seed %'`,
		`INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, purpose, origin,
				segments, error_code, created_at, sent_at)
			SELECT v.conv, $1, v.dir, CASE WHEN v.dir = 'inbound' THEN ` + words + `[g % 10 + 1] || ' ' || ` + tail + ` ELSE 'On it' END,
			       '+15005550006', '+1212' || lpad(v.conv::text, 7, '0'), v.status,
			       CASE WHEN g % 10 = 7 THEN 'marketing' ELSE 'conversational' END, v.origin, 1 + g % 3,
			       CASE v.status WHEN 'failed' THEN 30007 + (g / 10) % 2 WHEN 'undelivered' THEN 30003 END,
			       v.at, CASE WHEN v.status IN ('sent', 'delivered', 'undelivered') THEN v.at END
			  FROM generate_series(0, $5 - 1) g
			 CROSS JOIN LATERAL (SELECT (SELECT min(id) FROM conversations WHERE brand_id = $1) + (g / 10) % $2 AS conv,
			        $3::timestamptz + g * $6::interval AS at,
			        CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END AS dir,
			        CASE g % 10 WHEN 3 THEN 'auto_reply' WHEN 7 THEN 'campaign' WHEN 9 THEN 'trigger'
			                    ELSE CASE WHEN g % 2 = 0 THEN 'customer' ELSE 'agent' END END AS origin,
			        CASE WHEN g % 2 = 0 THEN 'received' WHEN (g / 10) % 20 = 0 THEN 'failed' WHEN (g / 10) % 20 = 1 THEN 'undelivered'
			             WHEN (g / 10) % 20 = 2 THEN 'queued' WHEN (g / 10) % 20 = 3 THEN 'sent' ELSE 'delivered' END AS status) v`,
		`INSERT INTO conversation_activity (conversation_id, kind, created_at)
			SELECT (SELECT min(id) FROM conversations WHERE brand_id = $1) + b % $2, 'closed', $3::timestamptz + (b * 10 + 9) * $6::interval + interval '1 second'
			  FROM generate_series(0, $5 / 10 - 1) b`,
		`INSERT INTO consent_events (brand_id, phone, purpose, status, source, created_at)
			SELECT $1, '+1212' || lpad(((SELECT min(id) FROM conversations WHERE brand_id = $1) + b % $2)::text, 7, '0'),
			       CASE WHEN b % 4 < 2 THEN 'marketing' ELSE 'conversational' END,
			       CASE WHEN b % 3 = 0 THEN 'opted_out' ELSE 'opted_in' END,
			       (ARRAY['keyword', 'api', 'import', 'web_form'])[b % 4 + 1], $3::timestamptz + (b * 10 + 4) * $6::interval
			  FROM generate_series(0, $5 / 10 - 1) b WHERE b % 2 = 0`,
	} {
		if _, err := pool.Exec(ctx, typed+q, brandID, d.Conversations, d.From, d.To, d.Texts, step); err != nil {
			return fmt.Errorf("storetest: seed analytics: %w", err)
		}
	}
	// As autovacuum would have by then: statistics, and every block range
	// summarised.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE contacts, conversations, messages, conversation_activity, consent_events`); err != nil {
		return fmt.Errorf("storetest: seed analytics: %w", err)
	}
	return nil
}
