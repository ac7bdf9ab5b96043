package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FoldMargin is how far behind now the watermark stays at least: a pass
// folds no slot that ends after the slot holding now less FoldMargin
// (the triggers of migration 00027 call the same two minutes "old"), so a
// status callback of the last minutes never touches a folded slot.
const FoldMargin = 2 * time.Minute

// waitChunk is how many conversations a pass reads the events of at once.
const waitChunk = 5000

// RefreshResult says what one pass folded.
type RefreshResult struct {
	// From and To are the slots folded from the raw rows: [From, To).
	From, To time.Time
	// Changed is how many changed slots and conversations were refolded.
	Changed int
	// Conversations is how many conversations' waits were recomputed.
	Conversations int
}

// RefreshAnalytics folds, in one transaction, the slots from the
// watermark to the slot of now less FoldMargin — never past the start of
// a transaction still running, whose rows would carry that start — and
// refolds what analytics_dirty says changed; then it moves the watermark.
// waits turns conversations' events (ordered as AnalyticsConversationEvents
// orders them, from each conversation's first) into their waits. Running
// it again right after folds nothing twice: every slot and conversation is
// recomputed from the raw rows, replacing what was there. terms gives a
// text's terms for the topics rollup (foldTopics), which adds only the
// texts of the slots folded now and recounts a changed day whole.
//
// Only one instance should run it at a time (the watermark's row lock
// makes a second one wait rather than double anything).
func (s *Store) RefreshAnalytics(ctx context.Context, waits func([]ConversationEvent) []Wait, terms TermsFunc) (RefreshResult, error) {
	var res RefreshResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT folded_to FROM analytics_state WHERE id = 1 FOR UPDATE`).Scan(&res.From); err != nil {
			return err
		}
		// This transaction's first look at pg_stat_activity (it keeps that
		// look until it ends): a transaction that starts later has a later
		// now() than every slot folded here. Other roles' sessions show no
		// xact_start; Parley's own connections share one role.
		if err := tx.QueryRow(ctx, `SELECT greatest($1::timestamptz, date_bin('15 minutes',
			least(clock_timestamp(), (SELECT min(xact_start) FROM pg_stat_activity
			                           WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
			                             AND datname = current_database())) - $2::interval,
			timestamptz '1970-01-01 00:00:00+00'))`, res.From, FoldMargin).Scan(&res.To); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM analytics_dirty RETURNING kind, brand_id, coalesce(slot, 'epoch'), coalesce(conversation_id, 0), texts`)
		if err != nil {
			return err
		}
		var msgBrands, conBrands, convs, textBrands []int64
		var msgSlots, conSlots, textSlots []time.Time
		var kind string
		var brand, conv int64
		var slot time.Time
		var texts bool
		if _, err := pgx.ForEachRow(rows, []any{&kind, &brand, &slot, &conv, &texts}, func() error {
			res.Changed++
			switch {
			case kind == "message" && slot.Before(res.From):
				msgBrands, msgSlots = append(msgBrands, brand), append(msgSlots, slot)
				if texts {
					textBrands, textSlots = append(textBrands, brand), append(textSlots, slot)
				}
			case kind == "consent" && slot.Before(res.From):
				conBrands, conSlots = append(conBrands, brand), append(conSlots, slot)
			}
			if conv != 0 {
				convs = append(convs, conv)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := refoldSlots(ctx, tx, msgBrands, msgSlots, conBrands, conSlots); err != nil {
			return err
		}
		if err := foldRange(ctx, tx, res.From, res.To); err != nil {
			return err
		}
		if err := foldTopics(ctx, tx, res.From, res.To, textBrands, textSlots, terms); err != nil {
			return err
		}
		n, err := refreshWaits(ctx, tx, convs, res.From, res.To, waits)
		if err != nil {
			return err
		}
		res.Conversations = n
		_, err = tx.Exec(ctx, `UPDATE analytics_state SET folded_to = $1, refreshed_at = now() WHERE id = 1`, res.To)
		return err
	})
	if err != nil {
		return RefreshResult{}, fmt.Errorf("store: refresh analytics: %w", err)
	}
	return res, nil
}

// messageSlotsOf and consentSlotsOf are the rollup rows of the raw rows a
// FROM clause names m (messages) or e (consent_events).
const (
	messageSlotsOf = `INSERT INTO analytics_message_slots (brand_id, slot, direction, purpose, origin, status, accepted, error_code, texts, segments)
		SELECT m.brand_id, date_bin('15 minutes', m.created_at, timestamptz '1970-01-01 00:00:00+00'), m.direction, m.purpose, m.origin,
		       m.status, m.sent_at IS NOT NULL, m.error_code, count(*), coalesce(sum(m.segments), 0)`
	messageSlotsGroup = ` GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2` // a brand's slots stored together
	consentSlotsOf    = `INSERT INTO analytics_consent_slots (brand_id, slot, status, source, phones)
		SELECT e.brand_id, date_bin('15 minutes', e.created_at, timestamptz '1970-01-01 00:00:00+00'), e.status, e.source, count(DISTINCT e.phone)`
	consentSlotsGroup = ` GROUP BY 1, 2, 3, 4 ORDER BY 1, 2`
)

// refoldSlots recomputes the changed (brand, slot) pairs of both rollups.
func refoldSlots(ctx context.Context, tx pgx.Tx, msgBrands []int64, msgSlots []time.Time, conBrands []int64, conSlots []time.Time) error {
	if len(msgBrands) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM analytics_message_slots r USING (SELECT DISTINCT * FROM unnest($1::bigint[], $2::timestamptz[])) d(b, s)
			WHERE r.brand_id = d.b AND r.slot = d.s`, msgBrands, msgSlots); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, messageSlotsOf+` FROM (SELECT DISTINCT * FROM unnest($1::bigint[], $2::timestamptz[])) d(b, s)
			JOIN messages m ON m.brand_id = d.b AND m.created_at >= d.s AND m.created_at < d.s + interval '15 minutes'`+messageSlotsGroup,
			msgBrands, msgSlots); err != nil {
			return err
		}
	}
	if len(conBrands) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM analytics_consent_slots r USING (SELECT DISTINCT * FROM unnest($1::bigint[], $2::timestamptz[])) d(b, s)
			WHERE r.brand_id = d.b AND r.slot = d.s`, conBrands, conSlots); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, consentSlotsOf+` FROM (SELECT DISTINCT * FROM unnest($1::bigint[], $2::timestamptz[])) d(b, s)
			JOIN consent_events e ON e.brand_id = d.b AND e.created_at >= d.s AND e.created_at < d.s + interval '15 minutes'`+consentSlotsGroup,
			conBrands, conSlots); err != nil {
			return err
		}
	}
	return nil
}

// foldRange folds the slots of [from, to) of every brand.
func foldRange(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	if !to.After(from) {
		return nil
	}
	for _, q := range []string{
		`DELETE FROM analytics_message_slots WHERE slot >= $1 AND slot < $2`,
		messageSlotsOf + ` FROM messages m WHERE m.created_at >= $1 AND m.created_at < $2` + messageSlotsGroup,
		`DELETE FROM analytics_consent_slots WHERE slot >= $1 AND slot < $2`,
		consentSlotsOf + ` FROM consent_events e WHERE e.created_at >= $1 AND e.created_at < $2` + consentSlotsGroup,
	} {
		if _, err := tx.Exec(ctx, q, from, to); err != nil {
			return err
		}
	}
	return nil
}

// refreshWaits recomputes the waits of the conversations changed (convs)
// or with a text or close in [from, to), from all their events before to.
func refreshWaits(ctx context.Context, tx pgx.Tx, convs []int64, from, to time.Time, waits func([]ConversationEvent) []Wait) (int, error) {
	if to.After(from) {
		rows, err := tx.Query(ctx, `
			SELECT conversation_id FROM messages
			 WHERE created_at >= $1 AND created_at < $2 AND conversation_id IS NOT NULL AND `+eventTexts("")+`
			UNION
			SELECT conversation_id FROM conversation_activity WHERE created_at >= $1 AND created_at < $2 AND kind = 'closed'`, from, to)
		if err != nil {
			return 0, err
		}
		touched, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, err
		}
		convs = append(convs, touched...)
	}
	seen := make(map[int64]bool, len(convs))
	ids := convs[:0]
	for _, id := range convs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for len(ids) > 0 {
		chunk := ids[:min(waitChunk, len(ids))]
		ids = ids[len(chunk):]
		evs, err := conversationEventsOf(ctx, tx, chunk, time.Time{}, to)
		if err != nil {
			return 0, err
		}
		ws := waits(evs)
		if _, err := tx.Exec(ctx, `DELETE FROM analytics_waits WHERE conversation_id = ANY($1)`, chunk); err != nil {
			return 0, err
		}
		if len(ws) == 0 {
			continue
		}
		conv, start := make([]int64, len(ws)), make([]time.Time, len(ws))
		first, resolved := make([]*time.Time, len(ws)), make([]*time.Time, len(ws))
		auto, pending := make([]*time.Time, len(ws)), make([]*time.Time, len(ws))
		next := make([][]byte, len(ws))
		by := make([]int64, len(ws))
		for i, w := range ws {
			conv[i], start[i], first[i], resolved[i], by[i] = w.ConversationID, w.Start, w.FirstResponse, w.Resolved, w.Responder
			auto[i], pending[i], next[i] = w.AutoReply, w.Pending, encodeSpans(w.Start, w.Next)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO analytics_waits (conversation_id, started_at, brand_id, first_response_at, resolved_at, first_responder,
				first_auto_reply_at, pending_since, next_responses)
			SELECT w.c, w.s, c.brand_id, w.f, w.r, nullif(w.b, 0), w.a, w.p, w.n
			  FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::bigint[], $6::timestamptz[], $7::timestamptz[],
			              $8::bytea[]) w(c, s, f, r, b, a, p, n)
			  JOIN conversations c ON c.id = w.c`, conv, start, first, resolved, by, auto, pending, next); err != nil {
			return 0, err
		}
	}
	return len(seen), nil
}
