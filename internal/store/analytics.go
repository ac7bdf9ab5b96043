package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Analytics reads group a brand's rows of [from, to) by 15-minute slot
// (slots from the Unix epoch): every zone's offset is a whole number of
// quarter hours, so the caller can put each slot in its local day or hour.
const analyticsSlot = `date_bin('15 minutes', %s, timestamptz '1970-01-01 00:00:00+00')`

func slotOf(col string) string { return fmt.Sprintf(analyticsSlot, col) }

// VolumeCount is the number of a brand's texts of one direction, purpose and
// origin stored in a slot.
type VolumeCount struct {
	Slot                       time.Time
	Direction, Purpose, Origin string
	N                          int
}

// AnalyticsVolumeRaw counts the brand's texts stored in [from, to), whatever
// became of them (the delivery figures say that), from every raw row:
// AnalyticsVolume's answer without the rollups.
func (s *Store) AnalyticsVolumeRaw(ctx context.Context, brandID int64, from, to time.Time) ([]VolumeCount, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+slotOf("created_at")+`, direction, purpose, origin, count(*)
		FROM messages WHERE brand_id = $1 AND created_at >= $2 AND created_at < $3
		GROUP BY 1, 2, 3, 4`, brandID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: analytics volume: %w", err)
	}
	out, err := pgx.AppendRows([]VolumeCount(nil), rows, pgx.RowToStructByPos[VolumeCount])
	if err != nil {
		return nil, fmt.Errorf("store: analytics volume: %w", err)
	}
	return out, nil
}

// DeliveryCount is the number and segments of a brand's outbound texts of
// one status stored in a slot; Accepted says the carrier took them.
// MarketingSegments are the segments of the marketing ones (the rest are
// conversational: the purpose has no third value).
type DeliveryCount struct {
	Slot              time.Time
	Status            string
	Accepted          bool
	N                 int
	Segments          int
	MarketingSegments int
}

// ErrorCount is how often the carrier gave one error code.
type ErrorCount struct {
	Code  int `json:"code"`
	Count int `json:"count"`
}

// AnalyticsDeliveryRaw counts the brand's outbound texts stored in [from,
// to) by status, and its most frequent carrier error codes (at most
// topErrors), from every raw row: AnalyticsDelivery without the rollups.
func (s *Store) AnalyticsDeliveryRaw(ctx context.Context, brandID int64, from, to time.Time, topErrors int) ([]DeliveryCount, []ErrorCount, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+slotOf("created_at")+`, status, sent_at IS NOT NULL, count(*), coalesce(sum(segments), 0),
		coalesce(sum(segments) FILTER (WHERE purpose = 'marketing'), 0)
		FROM messages WHERE brand_id = $1 AND created_at >= $2 AND created_at < $3 AND direction = 'outbound'
		GROUP BY 1, 2, 3`, brandID, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("store: analytics delivery: %w", err)
	}
	out, err := pgx.AppendRows([]DeliveryCount(nil), rows, pgx.RowToStructByPos[DeliveryCount])
	if err != nil {
		return nil, nil, fmt.Errorf("store: analytics delivery: %w", err)
	}
	rows, err = s.Pool.Query(ctx, `SELECT error_code, count(*) FROM messages
		WHERE brand_id = $1 AND created_at >= $2 AND created_at < $3 AND direction = 'outbound' AND error_code IS NOT NULL
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $4`, brandID, from, to, topErrors)
	if err != nil {
		return nil, nil, fmt.Errorf("store: analytics errors: %w", err)
	}
	errs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ErrorCount])
	if err != nil {
		return nil, nil, fmt.Errorf("store: analytics errors: %w", err)
	}
	return out, errs, nil
}

// ConsentCount is the number of phones whose consent at the brand changed
// to one status from one source in a slot (a STOP that ends every purpose
// is one opt-out).
type ConsentCount struct {
	Slot           time.Time
	Status, Source string
	N              int
}

// AnalyticsConsentRaw counts the brand's ledger entries of [from, to) from
// every raw row: AnalyticsConsent without the rollups.
func (s *Store) AnalyticsConsentRaw(ctx context.Context, brandID int64, from, to time.Time) ([]ConsentCount, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+slotOf("created_at")+`, status, source, count(DISTINCT phone)
		FROM consent_events WHERE brand_id = $1 AND created_at >= $2 AND created_at < $3
		GROUP BY 1, 2, 3`, brandID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: analytics consent: %w", err)
	}
	out, err := pgx.AppendRows([]ConsentCount(nil), rows, pgx.RowToStructByPos[ConsentCount])
	if err != nil {
		return nil, fmt.Errorf("store: analytics consent: %w", err)
	}
	return out, nil
}

// ConversationEvent is a customer's text (kind 0), a person's reply (1), a
// close (2) or an automatic answer (3: an auto-reply or after-hours
// reply), as response times read them.
type ConversationEvent struct {
	ConversationID int64
	Kind           int
	At             time.Time
	// Actor is the user who wrote a person's reply (0: unknown).
	Actor int64
}

// AnalyticsConversationEvents reads the brand's customer texts, agent
// replies, automatic answers and closes of [from, to), ordered by
// conversation and time (at one instant: the text, then the reply, then
// the close, then the automatic answer).
func (s *Store) AnalyticsConversationEvents(ctx context.Context, brandID int64, from, to time.Time) ([]ConversationEvent, error) {
	out, err := conversationEvents(ctx, s.Pool, brandID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: analytics conversation events: %w", err)
	}
	return out, nil
}

// AnalyticsWaitingAt says which of the conversations ids had a customer
// waiting at the instant at: a text from them after the last close before
// it. The answer maps each such conversation to that text's time. Each
// conversation is read backwards from its newest text, through its own
// index, so the cost is per conversation asked about, not per text stored.
func (s *Store) AnalyticsWaitingAt(ctx context.Context, ids []int64, at time.Time) (map[int64]time.Time, error) {
	out, err := waitingAt(ctx, s.Pool, ids, at)
	if err != nil {
		return nil, fmt.Errorf("store: analytics waiting: %w", err)
	}
	return out, nil
}

const waitingAtSQL = `
	SELECT c.id, i.created_at
	  FROM unnest($1::bigint[]) c(id)
	  CROSS JOIN LATERAL (SELECT m.created_at FROM messages m
	                       WHERE m.conversation_id = c.id AND m.direction = 'inbound' AND m.created_at < $2
	                       ORDER BY m.id DESC LIMIT 1) i
	 WHERE NOT EXISTS (SELECT 1 FROM conversation_activity a
	                    WHERE a.conversation_id = c.id AND a.kind = 'closed' AND a.created_at >= i.created_at AND a.created_at < $2)`

// InboundText is one customer text, for topics.
type InboundText struct {
	ID   int64
	Body string
}

// AnalyticsInboundTexts reads up to limit of the brand's customer texts of
// [from, to), oldest first.
func (s *Store) AnalyticsInboundTexts(ctx context.Context, brandID int64, from, to time.Time, limit int) ([]InboundText, error) {
	return inboundTexts(ctx, s.Pool, brandID, from, to, limit)
}

func inboundTexts(ctx context.Context, q querier, brandID int64, from, to time.Time, limit int) ([]InboundText, error) {
	rows, err := q.Query(ctx, `SELECT id, body FROM messages
		WHERE brand_id = $1 AND created_at >= $2 AND created_at < $3 AND direction = 'inbound' AND body <> ''
		ORDER BY created_at, id LIMIT $4`, brandID, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("store: analytics inbound texts: %w", err)
	}
	var out []InboundText
	var t InboundText
	if _, err := pgx.ForEachRow(rows, []any{&t.ID, &t.Body}, func() error {
		out = append(out, t)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: analytics inbound texts: %w", err)
	}
	return out, nil
}

// CampaignFigures are one campaign's results summed over its variants,
// and each variant's (index = variant).
type CampaignFigures struct {
	Campaign Campaign
	Results  VariantResult
	Variants []VariantResult
}

// AnalyticsCampaigns are the brand's campaigns started in [from, to), with
// their results (CampaignResults, summed over the variants).
func (s *Store) AnalyticsCampaigns(ctx context.Context, brandID int64, from, to time.Time) ([]CampaignFigures, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+campaignCols+` FROM campaigns c JOIN brands b ON b.id = c.brand_id
		WHERE c.brand_id = $1 AND c.started_at >= $2 AND c.started_at < $3 ORDER BY c.started_at, c.id`, brandID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: analytics campaigns: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) { return scanCampaign(r) })
	if err != nil {
		return nil, fmt.Errorf("store: analytics campaigns: %w", err)
	}
	out := make([]CampaignFigures, 0, len(cs))
	for _, c := range cs {
		vs, err := s.CampaignResults(ctx, c.ID, len(c.Variants))
		if err != nil {
			return nil, err
		}
		sum := VariantResult{Counts: map[string]int{}}
		for _, v := range vs {
			for k, n := range v.Counts {
				sum.Counts[k] += n
			}
			sum.Segments += v.Segments
			sum.Replied += v.Replied
			sum.OptedOut += v.OptedOut
			sum.Clicked += v.Clicked
		}
		out = append(out, CampaignFigures{Campaign: c, Results: sum, Variants: vs})
	}
	return out, nil
}

// ConversationRow is one conversation of the conversations export.
type ConversationRow struct {
	ID, ContactID            int64
	Contact, Phone, Status   string
	Assignee                 string
	CreatedAt                time.Time
	FirstInbound, FirstReply *time.Time
	ClosedAt                 *time.Time
	MessagesIn, MessagesOut  int
	Labels                   []string
}

// AnalyticsConversations reads up to limit of the brand's conversations
// active in [from, to) (opened before to, a text since from) with ids
// after after, in id order. Counts and times are of the conversation's
// whole history; each is read through the conversation's own indexes.
func (s *Store) AnalyticsConversations(ctx context.Context, brandID int64, from, to time.Time, after int64, limit int) ([]ConversationRow, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT c.id, c.contact_id, coalesce(ct.name, ''), c.last_phone, c.status, coalesce(u.email, ''), c.created_at,
		       f.first_in, r.first_reply,
		       CASE WHEN c.status = 'closed' THEN (SELECT max(a.created_at) FROM conversation_activity a
		                                            WHERE a.conversation_id = c.id AND a.kind = 'closed') END,
		       n.ins, n.outs, c.labels
		  FROM conversations c
		  LEFT JOIN contacts ct ON ct.id = c.contact_id
		  LEFT JOIN users u ON u.id = c.assignee_id
		  CROSS JOIN LATERAL (SELECT min(m.created_at) AS first_in FROM messages m
		                       WHERE m.conversation_id = c.id AND m.direction = 'inbound') f
		  CROSS JOIN LATERAL (SELECT min(m.created_at) AS first_reply FROM messages m
		                       WHERE m.conversation_id = c.id AND m.origin = 'agent' AND m.created_at >= f.first_in) r
		  CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE m.direction = 'inbound') AS ins,
		                             count(*) FILTER (WHERE m.direction = 'outbound') AS outs
		                        FROM messages m WHERE m.conversation_id = c.id) n
		 WHERE c.brand_id = $1 AND c.merged_into IS NULL AND c.id > $4
		   AND c.created_at < $3 AND c.last_message_at >= $2
		 ORDER BY c.id LIMIT $5`, brandID, from, to, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: analytics conversations: %w", err)
	}
	var out []ConversationRow
	var c ConversationRow
	if _, err := pgx.ForEachRow(rows, []any{&c.ID, &c.ContactID, &c.Contact, &c.Phone, &c.Status, &c.Assignee, &c.CreatedAt,
		&c.FirstInbound, &c.FirstReply, &c.ClosedAt, &c.MessagesIn, &c.MessagesOut, &c.Labels}, func() error {
		out = append(out, c)
		// The next row must not write into this one's times and labels.
		c.FirstInbound, c.FirstReply, c.ClosedAt, c.Labels = nil, nil, nil, nil
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: analytics conversations: %w", err)
	}
	return out, nil
}
