package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// SendCandidate is everything the sender checks before a text goes out, read
// in one query.
type SendCandidate struct {
	Message
	Queue      string
	OriginRef  string
	SendAt     *time.Time
	Attempts   int
	ContactID  int64
	ContactTZ  string
	BrandName  string
	BrandTZ    string
	QuietStart int
	QuietEnd   int
	// MarketingCap is the brand's limit of marketing texts per phone per 24 h.
	MarketingCap int
	// Newest ledger states for (brand, phone): "" when the ledger has none.
	Marketing, Conversational string
	// MarketingLast24h counts marketing texts that went (or may have gone) to
	// the phone from this brand in the last 24 hours.
	MarketingLast24h int
	Undeliverable    bool
	// LastInboundAt is when the customer last wrote in this conversation.
	LastInboundAt *time.Time
	// CampaignState is the state of the campaign a campaign text belongs
	// to ("" for any other text).
	CampaignState string
}

// The phone's contact is a LATERAL lookup with LIMIT 1, not a join: right
// after a bulk load the tables' statistics are stale, and a join was
// planned as a hash of every contact phone for each claim, a cost that grew
// with the size of the campaign.
const candidateSelect = `
		SELECT m.id, coalesce(m.conversation_id, 0), m.brand_id, m.direction, m.body, m.media, m.from_number, m.to_number,
			m.status, coalesce(m.twilio_sid, ''), coalesce(m.error_code, 0), m.error_message, m.purpose, m.origin,
			m.segments, m.encoding, m.created_at,
			coalesce(m.queue, 'replies'), m.origin_ref, m.send_at, m.attempts,
			coalesce(cp.contact_id, 0), coalesce(cp.timezone, ''), b.name, b.timezone, b.quiet_start, b.quiet_end, b.marketing_cap,
			coalesce((SELECT ce.status FROM consent_events ce WHERE ce.brand_id = m.brand_id AND ce.phone = m.to_number
				AND ce.purpose = 'marketing' ORDER BY ce.id DESC LIMIT 1), ''),
			coalesce((SELECT ce.status FROM consent_events ce WHERE ce.brand_id = m.brand_id AND ce.phone = m.to_number
				AND ce.purpose = 'conversational' ORDER BY ce.id DESC LIMIT 1), ''),
			CASE WHEN m.purpose = 'marketing' THEN (SELECT count(*) FROM messages r
				WHERE r.brand_id = m.brand_id AND r.to_number = m.to_number AND r.direction = 'outbound'
				  AND r.purpose = 'marketing' AND r.sending_at > now() - interval '24 hours' AND r.id <> m.id
				  AND r.status IN ('sending', 'sent', 'delivered', 'undelivered', 'unknown', 'read')) ELSE 0 END,
			coalesce(cp.undeliverable, false),
			(SELECT cv.last_inbound_at FROM conversations cv WHERE cv.id = m.conversation_id),
			CASE WHEN m.origin = 'campaign' AND m.origin_ref ~ '^[0-9]{1,18}$' THEN coalesce((SELECT c.state FROM campaigns c WHERE c.id = m.origin_ref::bigint), '') ELSE '' END
		JOIN brands b ON b.id = m.brand_id
		LEFT JOIN LATERAL (SELECT p.contact_id, p.undeliverable, ct.timezone FROM contact_phones p
			LEFT JOIN contacts ct ON ct.id = p.contact_id WHERE p.phone = m.to_number LIMIT 1) cp ON true`

// campaignRunning: a campaign's text may be claimed only while its
// campaign runs. Pause and cancel take back the texts no sender holds; one
// a sender gives back afterwards (its slot passed) stays until the
// campaign runs again, or is canceled with it. CASE, so the cast is only
// tried on a campaign's reference (a text with origin campaign and no
// campaign id, as some tests queue, is claimed as any other).
const campaignRunning = `(CASE WHEN origin = 'campaign' AND origin_ref ~ '^[0-9]{1,18}$' THEN EXISTS (SELECT 1 FROM campaigns c
	WHERE c.id = messages.origin_ref::bigint AND c.state = 'running') ELSE true END)`

func scanCandidate(row pgx.Row) (SendCandidate, error) {
	var c SendCandidate
	var media []byte
	err := row.Scan(
		&c.ID, &c.ConversationID, &c.BrandID, &c.Direction, &c.Body, &media, &c.From, &c.To,
		&c.Status, &c.TwilioSID, &c.ErrorCode, &c.ErrorMessage, &c.Purpose, &c.Origin,
		&c.Segments, &c.Encoding, &c.CreatedAt,
		&c.Queue, &c.OriginRef, &c.SendAt, &c.Attempts,
		&c.ContactID, &c.ContactTZ, &c.BrandName, &c.BrandTZ, &c.QuietStart, &c.QuietEnd, &c.MarketingCap,
		&c.Marketing, &c.Conversational, &c.MarketingLast24h, &c.Undeliverable, &c.LastInboundAt, &c.CampaignState)
	if err != nil {
		return c, err
	}
	return c, unmarshalMedia(media, &c.Media)
}

// LoadForSend returns the candidate as it stands, or ErrNotFound.
func (s *Store) LoadForSend(ctx context.Context, id int64) (SendCandidate, error) {
	// candidateSelect reads "m" FROM a row source placed before its JOINs.
	q := strings.Replace(candidateSelect, "\t\tJOIN brands b", "\t\tFROM messages m\n\t\tJOIN brands b", 1) +
		` WHERE m.id = $1 AND m.direction = 'outbound'`
	c, err := scanCandidate(s.Pool.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("store: load message %d for send: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: load message %d for send: %w", id, err)
	}
	return c, nil
}

// ClaimManyForSend is ClaimForSend for several messages in one statement and
// one commit; the result holds the ones claimed (each id at most once,
// however often it was asked for).
//
// Marketing texts are counted against the brand's cap under a lock per
// (brand, phone) taken before the claim, in the same transaction: a claim of
// another text to the same phone, by another worker or process, either
// committed before ours (and is counted) or waits for ours to commit (and
// counts it). Texts to the same phone within this one claim are counted in id
// order. So two texts claimed together with one send left under the cap: one
// goes, the other is over the cap.
//
// token identifies this claim (see ReleaseClaims): the claimer picks it, so
// it knows it even when the answer is lost. Texts to a phone in exclude
// (opt-outs not stored yet) are left queued.
func (s *Store) ClaimManyForSend(ctx context.Context, ids []int64, token int64, exclude []string) (map[int64]SendCandidate, error) {
	if exclude == nil {
		exclude = []string{} // = ANY(NULL) would exclude every text
	}
	b := &pgx.Batch{}
	// Every marketing id asked for is locked, whatever its status now: one
	// given back between this statement and the next is claimable there.
	b.Queue(`SELECT count(pg_advisory_xact_lock(k)) FROM (
			SELECT DISTINCT hashtextextended(brand_id::text || ':' || to_number, 13) AS k FROM messages
			WHERE id = ANY($1) AND direction = 'outbound' AND purpose = 'marketing'
			ORDER BY k) l`, ids)
	q := `WITH m AS (
			UPDATE messages SET status = 'sending', sending_at = now(), attempts = attempts + 1,
				held_until = NULL, status_reason = '', updated_at = now(), claim_token = $2
			WHERE id = ANY($1) AND direction = 'outbound' AND (status || '') IN ('queued', 'held')
			  AND (send_at IS NULL OR send_at <= now()) AND NOT (to_number = ANY($3::text[])) AND ` + campaignRunning + `
			RETURNING *)` + strings.Replace(candidateSelect, "\t\tJOIN brands b", "\t\tFROM m\n\t\tJOIN brands b", 1)
	// (status || ''): the ids are the way in, never the index of every queued
	// text. With stale statistics (a campaign's texts just inserted) the
	// planner took messages_outbox and filtered thousands of queued texts
	// for each claim of a few dozen.
	out := make(map[int64]SendCandidate, len(ids))
	b.Queue(q, ids, token, exclude).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			c, err := scanCandidate(rows)
			if err != nil {
				return err
			}
			out[c.ID] = c
		}
		return rows.Err()
	})
	if err := s.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("store: claim %d messages: %w", len(ids), err)
	}
	countTogether(out)
	return out, nil
}

// countTogether adds, to each marketing candidate's count, the marketing
// texts to the same phone from the same brand claimed in the same statement
// with a lower id (one snapshot cannot see the others' claims).
func countTogether(claimed map[int64]SendCandidate) {
	type key struct {
		brand int64
		to    string
	}
	groups := map[key][]int64{}
	for id, c := range claimed {
		if c.Purpose == "marketing" {
			k := key{c.BrandID, c.To}
			groups[k] = append(groups[k], id)
		}
	}
	for _, ids := range groups {
		if len(ids) < 2 {
			continue
		}
		slices.Sort(ids)
		for i, id := range ids {
			c := claimed[id]
			c.MarketingLast24h += i
			claimed[id] = c
		}
	}
}

// ReleaseClaims gives back the claims of ids made with token whose carrier
// call never happened (the slot passed, a check failed on an error, the
// worker is stopping, the claim's answer was lost): the messages are queued
// again and the attempts do not count. A message claimed since by anyone
// else, or already sent, is left alone.
func (s *Store) ReleaseClaims(ctx context.Context, ids []int64, token int64) error {
	_, err := s.Pool.Exec(ctx, `WITH u AS (UPDATE messages SET status = 'queued', attempts = greatest(attempts - 1, 0), updated_at = now()
		WHERE id = ANY($1) AND status = 'sending' AND claim_token = $2 AND twilio_sid IS NULL RETURNING conversation_id)`+notifyChanged, ids, token)
	if err != nil {
		return fmt.Errorf("store: release %d claims: %w", len(ids), err)
	}
	return nil
}

// ClaimForSend moves a due queued or held message to sending and returns it
// with everything the sender checks, in one round trip. Only the caller that
// gets ok=true may call the carrier, which is what makes a send happen at
// most once. ok=false: another worker has it, it is finished, or it is not
// due yet (LoadForSend tells which).
func (s *Store) ClaimForSend(ctx context.Context, id int64) (c SendCandidate, ok bool, err error) {
	q := `WITH m AS (
			UPDATE messages SET status = 'sending', sending_at = now(), attempts = attempts + 1,
				held_until = NULL, status_reason = '', updated_at = now()
			WHERE id = $1 AND direction = 'outbound' AND status IN ('queued', 'held')
			  AND (send_at IS NULL OR send_at <= now()) AND ` + campaignRunning + `
			RETURNING *)` + strings.Replace(candidateSelect, "\t\tJOIN brands b", "\t\tFROM m\n\t\tJOIN brands b", 1)
	c, err = scanCandidate(s.Pool.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("store: claim message %d: %w", id, err)
	}
	return c, true, nil
}

// MarkSending moves a queued or held message to sending. It returns false when
// another worker got there first or the message is no longer sendable: only
// the caller that gets true may call the carrier, which is what makes a send
// happen at most once.
func (s *Store) MarkSending(ctx context.Context, id int64) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE messages SET status = 'sending', sending_at = now(), attempts = attempts + 1,
		held_until = NULL, status_reason = '', updated_at = now()
		WHERE id = $1 AND status IN ('queued', 'held') AND `+campaignRunning, id)
	if err != nil {
		return false, fmt.Errorf("store: mark message %d sending: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Sent is a carrier SID to record on a message.
type Sent struct {
	MessageID int64
	SID       string
}

// MarkSent records the carriers' SIDs of several sent messages in one
// statement and returns the status callbacks that arrived for those SIDs
// before they were known (usually none), removed from pending_statuses, for
// the caller to apply. A callback matched by our id may have moved a message
// further already; that status is kept.
//
// It is written with asynchronous commit: if Postgres crashed right after, the
// message would be left in sending, and the reconciler would find the SID at
// the carrier. Losing it costs a lookup, never a second send.
func (s *Store) MarkSent(ctx context.Context, sent []Sent) ([]StatusUpdate, error) {
	ids := make([]int64, len(sent))
	sids := make([]string, len(sent))
	for i, x := range sent {
		ids[i], sids[i] = x.MessageID, x.SID
	}
	// Two statements in one implicit transaction (one round trip): first the
	// SID locks ApplyStatus also takes, then — with a snapshot taken after
	// them — the update and the pickup of callbacks kept for those SIDs. In a
	// single statement the snapshot would predate the locks, and a callback
	// kept meanwhile would be left behind.
	b := &pgx.Batch{}
	b.Queue(`SELECT count(pg_advisory_xact_lock(hashtextextended(sid, 11)))
		FROM (SELECT DISTINCT sid FROM unnest($1::text[]) AS u(sid) ORDER BY sid) o`, sids)
	var pend []StatusUpdate
	b.Queue(`
		WITH v AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS v(id, sid)),
		upd AS (
			UPDATE messages m SET twilio_sid = v.sid, sent_at = now(), updated_at = now(),
				status = CASE WHEN m.status IN ('queued', 'held', 'sending') THEN 'sent' ELSE m.status END
			FROM v WHERE m.id = v.id RETURNING m.id)
		DELETE FROM pending_statuses p USING v
		WHERE p.twilio_sid = v.sid AND EXISTS (SELECT 1 FROM upd)
		RETURNING p.twilio_sid, v.id, p.status, coalesce(p.error_code, 0), p.error_message`, ids, sids).
		Query(func(rows pgx.Rows) error {
			var err error
			pend, err = pgx.CollectRows(rows, scanPending)
			return err
		})
	b.Queue(`WITH u AS (SELECT conversation_id FROM messages WHERE id = ANY($1))`+notifyChanged, ids)
	if err := s.lazy().SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("store: mark %d messages sent: %w", len(sent), err)
	}
	return pend, nil
}

// scanPending reads a kept status callback as (sid, message id, status,
// error code, error message).
func scanPending(r pgx.CollectableRow) (StatusUpdate, error) {
	var u StatusUpdate
	err := r.Scan(&u.SID, &u.MessageID, &u.Status, &u.ErrorCode, &u.ErrorMessage)
	return u, err
}

// Requeue puts a message whose send definitely did not happen back to queued,
// keeping the error for the record.
func (s *Store) Requeue(ctx context.Context, id int64, code int, msg string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE messages SET status = 'queued', error_code = nullif($2, 0), error_message = $3,
		updated_at = now() WHERE id = $1 AND status = 'sending'`, id, code, msg)
	if err != nil {
		return fmt.Errorf("store: requeue message %d: %w", id, err)
	}
	return nil
}

// Hold parks a queued (or just claimed) message until the recipient's quiet
// hours end.
func (s *Store) Hold(ctx context.Context, id int64, until time.Time, reason string) error {
	// A claim parked for quiet hours is not an attempt.
	_, err := s.Pool.Exec(ctx, `WITH u AS (UPDATE messages SET status = 'held', held_until = $2, status_reason = $3, updated_at = now(),
			attempts = CASE WHEN status = 'sending' THEN greatest(attempts - 1, 0) ELSE attempts END
		WHERE id = $1 AND status IN ('queued', 'held', 'sending') RETURNING conversation_id)`+notifyChanged, id, until, reason)
	if err != nil {
		return fmt.Errorf("store: hold message %d: %w", id, err)
	}
	return nil
}

// notifyChanged follows a CTE u(conversation_id) of changed messages: it
// tells the consoles (LISTEN parley_conversation) which conversations to
// refresh, once each, and counts the messages.
const notifyChanged = ` SELECT count(*) FROM (SELECT conversation_id, pg_notify('parley_conversation', conversation_id::text)
	FROM (SELECT DISTINCT conversation_id FROM u WHERE conversation_id IS NOT NULL) d) n`

// Finish gives a message a final status (suppressed, failed, canceled,
// unknown) with the reason and error, unless it already has a later one.
func (s *Store) Finish(ctx context.Context, id int64, status, reason string, code int, msg string) error {
	_, err := s.FinishIf(ctx, id, status, reason, code, msg)
	return err
}

// FinishIf is Finish that says whether it changed the message (false: a
// status callback or another worker moved it first).
func (s *Store) FinishIf(ctx context.Context, id int64, status, reason string, code int, msg string) (bool, error) {
	var changed int
	err := s.Pool.QueryRow(ctx, `WITH u AS (UPDATE messages SET status = $2, status_reason = $3, error_code = coalesce(nullif($4, 0), error_code),
			error_message = CASE WHEN $5 <> '' THEN $5 ELSE error_message END, updated_at = now()
		WHERE id = $1 AND status IN ('queued', 'held', 'sending') RETURNING conversation_id)`+notifyChanged, id, status, reason, code, msg).Scan(&changed)
	if err != nil {
		return false, fmt.Errorf("store: finish message %d as %s: %w", id, status, err)
	}
	return changed == 1, nil
}

// CarrierOptOut records that the carrier refused a text because the phone had
// opted out there (21610): both purposes, for the message's brand, in the
// ledger, and the message suppressed. It returns the ledger's new entries.
func (s *Store) CarrierOptOut(ctx context.Context, id int64, evidence string) ([]ConsentEvent, error) {
	var events []ConsentEvent
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, message_id)
			SELECT m.brand_id, m.to_number, p.purpose, 'opted_out', 'carrier', $2, m.id
			FROM messages m CROSS JOIN (VALUES ('conversational'), ('marketing')) p(purpose) WHERE m.id = $1
			RETURNING id, brand_id, phone, purpose, status, source, evidence, message_id, created_at`, id, evidence)
		if err == nil {
			events, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConsentEvent, error) {
				var e ConsentEvent
				err := r.Scan(&e.ID, &e.BrandID, &e.Phone, &e.Purpose, &e.Status, &e.Source, &e.Evidence, &e.MessageID, &e.CreatedAt)
				return e, err
			})
		}
		if err != nil {
			return fmt.Errorf("store: carrier opt-out for message %d: %w", id, err)
		}
		_, err = tx.Exec(ctx, `WITH u AS (UPDATE messages SET status = 'suppressed', status_reason = 'opted_out_at_carrier',
			error_code = 21610, error_message = $2, updated_at = now() WHERE id = $1 RETURNING conversation_id)`+notifyChanged, id, evidence)
		if err != nil {
			return fmt.Errorf("store: carrier opt-out for message %d: %w", id, err)
		}
		return nil
	})
	return events, err
}

// MarkUndeliverable flags a phone that cannot receive texts (invalid, landline).
func (s *Store) MarkUndeliverable(ctx context.Context, phone string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE contact_phones SET undeliverable = true WHERE phone = $1`, phone)
	if err != nil {
		return fmt.Errorf("store: mark %s undeliverable: %w", phone, err)
	}
	return nil
}

// FlagConversation asks a person to look at a conversation, saying why.
func (s *Store) FlagConversation(ctx context.Context, conversationID int64, why string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE conversations SET needs_attention = $2, updated_at = now() WHERE id = $1`, conversationID, why)
	if err != nil {
		return fmt.Errorf("store: flag conversation %d: %w", conversationID, err)
	}
	if _, err := s.Pool.Exec(ctx, `SELECT pg_notify('parley_conversation', $1::bigint::text)`, conversationID); err != nil {
		return fmt.Errorf("store: flag conversation %d: %w", conversationID, err)
	}
	return nil
}

// SIDTaken reports whether another message already holds sid (a reconciler
// must not give one carrier message to two of ours).
func (s *Store) SIDTaken(ctx context.Context, sid string) (bool, error) {
	var taken bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE twilio_sid = $1)`, sid).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("store: sid taken: %w", err)
	}
	return taken, nil
}

// InFlightTo reports whether a text of the brand to phone is claimed for the
// carrier (status sending) since at most within ago: a send that read
// consent before an opt-out committed and may still reach the carrier. Older
// claims are a dead worker's, left to the reconciler.
func (s *Store) InFlightTo(ctx context.Context, brandID int64, phone string, within time.Duration) (bool, error) {
	var busy bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE direction = 'outbound' AND status = 'sending'
		AND brand_id = $1 AND to_number = $2 AND sending_at > now() - $3::bigint * interval '1 microsecond')`, brandID, phone, within.Microseconds()).Scan(&busy)
	if err != nil {
		return false, fmt.Errorf("store: texts in flight to %s: %w", phone, err)
	}
	return busy, nil
}
