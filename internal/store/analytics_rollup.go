package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The analytics reads below take, in one statement (one snapshot), the
// rollups of the slots before the watermark that nothing changed since
// they were folded, the raw rows of the slots something changed, and the
// raw rows from the watermark on (see migration 00027). Their answers are
// those of the …Raw reads, row for row once summed per slot.

// foldedTo is the watermark, as a scalar subquery (an init plan: the
// block-range index scans of the tail can use its value).
const foldedTo = `(SELECT folded_to FROM analytics_state WHERE id = 1)`

// AnalyticsVolume counts the brand's texts stored in [from, to), whatever
// became of them (the delivery figures say that).
func (s *Store) AnalyticsVolume(ctx context.Context, brandID int64, from, to time.Time) ([]VolumeCount, error) {
	if s.RawAnalytics.Load() {
		return s.AnalyticsVolumeRaw(ctx, brandID, from, to)
	}
	rows, err := s.Pool.Query(ctx, `
		WITH d AS (SELECT DISTINCT slot FROM analytics_dirty
		            WHERE brand_id = $1 AND kind = 'message' AND slot >= $2 AND slot < least($3, `+foldedTo+`))
		SELECT slot, direction, purpose, origin, sum(texts) FROM analytics_message_slots
		 WHERE brand_id = $1 AND slot >= $2 AND slot < least($3, `+foldedTo+`) AND slot NOT IN (SELECT slot FROM d)
		 GROUP BY 1, 2, 3, 4
		UNION ALL
		SELECT `+slotOf("created_at")+`, direction, purpose, origin, count(*) FROM messages
		 WHERE brand_id = $1 AND created_at >= greatest($2, `+foldedTo+`) AND created_at < $3
		 GROUP BY 1, 2, 3, 4
		UNION ALL
		SELECT `+slotOf("m.created_at")+`, m.direction, m.purpose, m.origin, count(*)
		  FROM d JOIN messages m ON m.brand_id = $1 AND m.created_at >= d.slot AND m.created_at < d.slot + interval '15 minutes'
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

// deliveryRows are the brand's outbound texts of [from, to) by slot and
// what delivery groups them by, from the rollups, the changed slots and
// the tail, as a subquery with columns slot, status, accepted,
// error_code, purpose, texts, segments.
const deliveryRows = `
	WITH d AS (SELECT DISTINCT slot FROM analytics_dirty
	            WHERE brand_id = $1 AND kind = 'message' AND slot >= $2 AND slot < least($3, ` + foldedTo + `))
	SELECT slot, status, accepted, error_code, purpose, texts, segments FROM analytics_message_slots
	 WHERE brand_id = $1 AND slot >= $2 AND slot < least($3, ` + foldedTo + `) AND direction = 'outbound'
	   AND slot NOT IN (SELECT slot FROM d)
	UNION ALL
	SELECT date_bin('15 minutes', created_at, timestamptz '1970-01-01 00:00:00+00'), status, sent_at IS NOT NULL, error_code, purpose, 1, segments
	  FROM messages
	 WHERE brand_id = $1 AND created_at >= greatest($2, ` + foldedTo + `) AND created_at < $3 AND direction = 'outbound'
	UNION ALL
	SELECT date_bin('15 minutes', m.created_at, timestamptz '1970-01-01 00:00:00+00'), m.status, m.sent_at IS NOT NULL, m.error_code, m.purpose, 1, m.segments
	  FROM d JOIN messages m ON m.brand_id = $1 AND m.created_at >= d.slot AND m.created_at < d.slot + interval '15 minutes'
	 WHERE m.direction = 'outbound'`

// AnalyticsDelivery counts the brand's outbound texts stored in [from, to)
// by status, and its most frequent carrier error codes (at most topErrors).
func (s *Store) AnalyticsDelivery(ctx context.Context, brandID int64, from, to time.Time, topErrors int) ([]DeliveryCount, []ErrorCount, error) {
	if s.RawAnalytics.Load() {
		return s.AnalyticsDeliveryRaw(ctx, brandID, from, to, topErrors)
	}
	rows, err := s.Pool.Query(ctx, `SELECT slot, status, accepted, sum(texts), coalesce(sum(segments), 0),
		coalesce(sum(segments) FILTER (WHERE purpose = 'marketing'), 0)
		FROM (`+deliveryRows+`) r GROUP BY 1, 2, 3`, brandID, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("store: analytics delivery: %w", err)
	}
	out, err := pgx.AppendRows([]DeliveryCount(nil), rows, pgx.RowToStructByPos[DeliveryCount])
	if err != nil {
		return nil, nil, fmt.Errorf("store: analytics delivery: %w", err)
	}
	rows, err = s.Pool.Query(ctx, `SELECT error_code, sum(texts) FROM (`+deliveryRows+`) r
		WHERE error_code IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $4`, brandID, from, to, topErrors)
	if err != nil {
		return nil, nil, fmt.Errorf("store: analytics errors: %w", err)
	}
	errs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ErrorCount])
	if err != nil {
		return nil, nil, fmt.Errorf("store: analytics errors: %w", err)
	}
	return out, errs, nil
}

// AnalyticsConsent counts the brand's ledger entries of [from, to).
func (s *Store) AnalyticsConsent(ctx context.Context, brandID int64, from, to time.Time) ([]ConsentCount, error) {
	if s.RawAnalytics.Load() {
		return s.AnalyticsConsentRaw(ctx, brandID, from, to)
	}
	rows, err := s.Pool.Query(ctx, `
		WITH d AS (SELECT DISTINCT slot FROM analytics_dirty
		            WHERE brand_id = $1 AND kind = 'consent' AND slot >= $2 AND slot < least($3, `+foldedTo+`))
		SELECT slot, status, source, phones FROM analytics_consent_slots
		 WHERE brand_id = $1 AND slot >= $2 AND slot < least($3, `+foldedTo+`) AND slot NOT IN (SELECT slot FROM d)
		UNION ALL
		SELECT `+slotOf("created_at")+`, status, source, count(DISTINCT phone) FROM consent_events
		 WHERE brand_id = $1 AND created_at >= greatest($2, `+foldedTo+`) AND created_at < $3
		 GROUP BY 1, 2, 3
		UNION ALL
		SELECT `+slotOf("e.created_at")+`, e.status, e.source, count(DISTINCT e.phone)
		  FROM d JOIN consent_events e ON e.brand_id = $1 AND e.created_at >= d.slot AND e.created_at < d.slot + interval '15 minutes'
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

// Wait is one customer's wait as the rollups keep it (analytics.Episode).
type Wait struct {
	ConversationID          int64
	Start                   time.Time
	FirstResponse, Resolved *time.Time
	// Responder is the user whose reply was the first response (0: none
	// or unknown).
	Responder int64
	// AutoReply is the first automatic answer before a person's; Pending
	// a customer's text still waiting for a person's next response when
	// the wait was computed (nil: none).
	AutoReply, Pending *time.Time
	// Next are the next responses.
	Next []Span
}

// Span is a next response: the customer's first text after a person's
// reply, and the person's next reply (analytics.Span).
type Span struct{ Asked, Answered time.Time }

// waitCols are analytics_waits' columns as collectWaits scans them.
const waitCols = `conversation_id, started_at, first_response_at, resolved_at, coalesce(first_responder, 0), first_auto_reply_at, pending_since,
	next_responses`

// WaitsRead is what the waits of a period are made of, read in one
// snapshot: the stored waits begun in the period, and what came after the
// watermark or changed since it passed.
type WaitsRead struct {
	// FoldedTo is the watermark; at or before the period's start nothing
	// else was read (the raw read is as cheap then).
	FoldedTo time.Time
	// Stored are the brand's stored waits begun in the period.
	Stored []Wait
	// Tail are the brand's events from FoldedTo to the read's end, ordered
	// as AnalyticsConversationEvents orders them.
	Tail []ConversationEvent
	// Open are the open last stored waits of the tail's conversations.
	Open map[int64]Wait
	// Changed are the conversations whose stored waits are out of date
	// (a text or close stored late, texts moved by a merge): their events
	// of the period and lookahead (ChangedEvents), and who was waiting at
	// the period's start (ChangedWaiting), as the raw read takes them.
	Changed        map[int64]bool
	ChangedEvents  []ConversationEvent
	ChangedWaiting map[int64]time.Time
}

// AnalyticsWaitsRead reads the waits begun in [from, to) of the brand,
// with the events up to until (the lookahead) that complete them.
func (s *Store) AnalyticsWaitsRead(ctx context.Context, brandID int64, from, to, until time.Time) (WaitsRead, error) {
	var r WaitsRead
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT folded_to FROM analytics_state WHERE id = 1`).Scan(&r.FoldedTo); err != nil {
			return err
		}
		if !r.FoldedTo.After(from) {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT conversation_id FROM analytics_dirty WHERE brand_id = $1 AND conversation_id IS NOT NULL`, brandID)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		r.Changed = make(map[int64]bool, len(ids))
		for _, id := range ids {
			r.Changed[id] = true
		}
		rows, err = tx.Query(ctx, `SELECT `+waitCols+` FROM analytics_waits
			WHERE brand_id = $1 AND started_at >= $2 AND started_at < $3`, brandID, from, to)
		if err != nil {
			return err
		}
		if r.Stored, err = collectWaits(rows); err != nil {
			return err
		}
		if r.Tail, err = conversationEvents(ctx, tx, brandID, r.FoldedTo, until); err != nil {
			return err
		}
		var tailIDs []int64
		for i, e := range r.Tail {
			if i == 0 || e.ConversationID != r.Tail[i-1].ConversationID {
				tailIDs = append(tailIDs, e.ConversationID)
			}
		}
		rows, err = tx.Query(ctx, `SELECT DISTINCT ON (conversation_id) `+waitCols+`
			FROM analytics_waits WHERE conversation_id = ANY($1) ORDER BY conversation_id, started_at DESC`, tailIDs)
		if err != nil {
			return err
		}
		last, err := collectWaits(rows)
		if err != nil {
			return err
		}
		r.Open = map[int64]Wait{}
		for _, w := range last {
			if w.Resolved == nil {
				r.Open[w.ConversationID] = w
			}
		}
		if len(ids) == 0 {
			return nil
		}
		if r.ChangedEvents, err = conversationEventsOf(ctx, tx, ids, from, until); err != nil {
			return err
		}
		r.ChangedWaiting, err = waitingAt(ctx, tx, ids, from)
		return err
	})
	if err != nil {
		return WaitsRead{}, fmt.Errorf("store: analytics waits: %w", err)
	}
	return r, nil
}

func collectWaits(rows pgx.Rows) ([]Wait, error) {
	var out []Wait
	var w Wait
	// The nullable times are scanned as values and pointed to in one
	// block per row: a read of a week's waits allocates once a row, not
	// once a time.
	var first, resolved, auto, pending pgtype.Timestamptz
	var next pgtype.DriverBytes // the row's own bytes, decoded at once
	out = make([]Wait, 0, 256)
	_, err := pgx.ForEachRow(rows, []any{&w.ConversationID, &w.Start, &first, &resolved, &w.Responder, &auto, &pending, &next}, func() error {
		var block *[4]time.Time
		at := func(i int, t pgtype.Timestamptz) *time.Time {
			if !t.Valid {
				return nil
			}
			if block == nil {
				block = new([4]time.Time)
			}
			block[i] = t.Time
			return &block[i]
		}
		w.FirstResponse, w.Resolved, w.AutoReply, w.Pending = at(0, first), at(1, resolved), at(2, auto), at(3, pending)
		w.Next = decodeSpans(w.Start, next)
		out = append(out, w)
		return nil
	})
	return out, err
}

// eventKind is a text's ConversationEvent kind: 0 a customer's, 1 a
// person's reply, 3 an automatic answer (2 is a close); eventTexts picks
// those texts. p is the messages table's alias with its dot.
func eventKind(p string) string {
	return `CASE WHEN ` + p + `direction = 'inbound' THEN 0 WHEN ` + p + `origin = 'agent' THEN 1 ELSE 3 END`
}

func eventTexts(p string) string {
	return `(` + p + `direction = 'inbound' OR ` + p + `origin IN ('agent', 'auto_reply', 'after_hours'))`
}

// encodeSpans packs next responses as analytics_waits.next_responses
// keeps them: big-endian microseconds after start, asked then answered;
// nil for none. decodeSpans unpacks them.
func encodeSpans(start time.Time, spans []Span) []byte {
	if len(spans) == 0 {
		return nil
	}
	out := make([]byte, 0, 16*len(spans))
	for _, sp := range spans {
		// The bits of the signed offsets, as they are: decodeSpans reads
		// them back as int64 (a span never precedes its wait anyway).
		out = binary.BigEndian.AppendUint64(out, uint64(sp.Asked.Sub(start).Microseconds()))    //nolint:gosec // two's complement kept
		out = binary.BigEndian.AppendUint64(out, uint64(sp.Answered.Sub(start).Microseconds())) //nolint:gosec // two's complement kept
	}
	return out
}

func decodeSpans(start time.Time, b []byte) []Span {
	n := len(b) / 16
	if n == 0 {
		return nil
	}
	out := make([]Span, n)
	for i := range out {
		asked, answered := int64(binary.BigEndian.Uint64(b[16*i:])), int64(binary.BigEndian.Uint64(b[16*i+8:])) //nolint:gosec // encodeSpans' int64 bits
		out[i] = Span{Asked: start.Add(time.Duration(asked) * time.Microsecond), Answered: start.Add(time.Duration(answered) * time.Microsecond)}
	}
	return out
}

// conversationEvents is AnalyticsConversationEvents on q.
func conversationEvents(ctx context.Context, q querier, brandID int64, from, to time.Time) ([]ConversationEvent, error) {
	rows, err := q.Query(ctx, `
		SELECT conversation_id, `+eventKind("")+`, created_at, CASE WHEN origin = 'agent' AND origin_ref ~ '^[0-9]{1,18}$' THEN origin_ref::bigint ELSE 0 END
		  FROM messages
		 WHERE brand_id = $1 AND created_at >= $2 AND created_at < $3 AND conversation_id IS NOT NULL
		   AND `+eventTexts("")+`
		UNION ALL
		SELECT a.conversation_id, 2, a.created_at, 0
		  FROM conversation_activity a JOIN conversations c ON c.id = a.conversation_id
		 WHERE a.created_at >= $2 AND a.created_at < $3 AND a.kind = 'closed' AND c.brand_id = $1
		ORDER BY 1, 3, 2`, brandID, from, to)
	if err != nil {
		return nil, err
	}
	return collectEvents(rows)
}

// conversationEventsOf reads the events of [from, to) of the conversations
// ids (of their own brand), ordered as conversationEvents orders them,
// through each conversation's own indexes.
func conversationEventsOf(ctx context.Context, q querier, ids []int64, from, to time.Time) ([]ConversationEvent, error) {
	rows, err := q.Query(ctx, `
		SELECT m.conversation_id, `+eventKind("m.")+`, m.created_at, CASE WHEN m.origin = 'agent' AND m.origin_ref ~ '^[0-9]{1,18}$' THEN m.origin_ref::bigint ELSE 0 END
		  FROM messages m JOIN conversations c ON c.id = m.conversation_id
		 WHERE m.conversation_id = ANY($1) AND m.created_at >= $2 AND m.created_at < $3 AND m.brand_id = c.brand_id
		   AND `+eventTexts("m.")+`
		UNION ALL
		SELECT a.conversation_id, 2, a.created_at, 0
		  FROM conversation_activity a
		 WHERE a.conversation_id = ANY($1) AND a.created_at >= $2 AND a.created_at < $3 AND a.kind = 'closed'
		ORDER BY 1, 3, 2`, ids, from, to)
	if err != nil {
		return nil, err
	}
	return collectEvents(rows)
}

func collectEvents(rows pgx.Rows) ([]ConversationEvent, error) {
	var out []ConversationEvent
	var e ConversationEvent
	_, err := pgx.ForEachRow(rows, []any{&e.ConversationID, &e.Kind, &e.At, &e.Actor}, func() error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// waitingAt is AnalyticsWaitingAt on q.
func waitingAt(ctx context.Context, q querier, ids []int64, at time.Time) (map[int64]time.Time, error) {
	rows, err := q.Query(ctx, waitingAtSQL, ids, at)
	if err != nil {
		return nil, err
	}
	out := map[int64]time.Time{}
	var id int64
	var since time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &since}, func() error {
		out[id] = since
		return nil
	})
	return out, err
}
