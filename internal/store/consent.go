package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConsentEvent is one row of the append-only consent ledger. The ledger is
// keyed by (brand, phone, purpose), not by contact, so a phone's history
// follows the phone when contacts merge or a number moves.
type ConsentEvent struct {
	ID        int64
	BrandID   int64
	Phone     string
	Purpose   string // marketing, conversational
	Status    string // opted_in, opted_out
	Source    string // keyword, api, import, agent, carrier, web_form
	Evidence  string
	MessageID int64 // the inbound text that carried the change, 0 for none
	CreatedAt time.Time
	// CampaignID is the campaign an opt-out is attributed to: the newest
	// campaign text the brand sent the phone in the 48 hours before it (as
	// the campaign's results count it); 0 for none and for opt-ins. Read,
	// never stored: the ledger stays what happened.
	CampaignID int64
}

// consentAttribution is the LATERAL join that finds an opt-out's campaign
// (ce is the ledger row), through the index of recent marketing texts.
const consentAttribution = `LEFT JOIN LATERAL (SELECT m.origin_ref::bigint AS id FROM messages m
		WHERE ce.status = 'opted_out' AND m.brand_id = ce.brand_id AND m.to_number = ce.phone AND m.direction = 'outbound'
		  AND m.purpose = 'marketing' AND m.sending_at IS NOT NULL AND m.origin = 'campaign' AND m.origin_ref ~ '^[0-9]{1,18}$'
		  AND m.created_at <= ce.created_at AND m.created_at > ce.created_at - interval '48 hours'
		ORDER BY m.id DESC LIMIT 1) att ON true`

// ConsentEvents returns the whole ledger of one phone for one brand, oldest
// first, so a person can read it as the story of that consent.
func (s *Store) ConsentEvents(ctx context.Context, brandID int64, phone string) ([]ConsentEvent, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT ce.id, ce.brand_id, ce.phone, ce.purpose, ce.status, ce.source, ce.evidence, coalesce(ce.message_id, 0), ce.created_at,
			coalesce(att.id, 0)
		FROM consent_events ce `+consentAttribution+`
		WHERE ce.brand_id = $1 AND ce.phone = $2 ORDER BY ce.id`, brandID, phone)
	if err != nil {
		return nil, fmt.Errorf("store: consent events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ConsentEvent])
	if err != nil {
		return nil, fmt.Errorf("store: consent events: %w", err)
	}
	return evs, nil
}

// LatestConsentStatus returns the status of the newest ledger row for
// (brand, phone, purpose) and its source, or "" when there is none. It reads
// one index entry, which is what makes the send-time check cheap.
func (s *Store) LatestConsentStatus(ctx context.Context, brandID int64, phone, purpose string) (status, source string, err error) {
	err = s.Pool.QueryRow(ctx, `
		SELECT status, source FROM consent_events
		WHERE brand_id = $1 AND phone = $2 AND purpose = $3
		ORDER BY id DESC LIMIT 1`, brandID, phone, purpose).Scan(&status, &source)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("store: latest consent of %s for brand %d: %w", purpose, brandID, err)
	}
	return status, source, nil
}

// AppendConsent adds events to the ledger in one transaction, in the given
// order: either all of them are recorded or none.
func (s *Store) AppendConsent(ctx context.Context, events []ConsentEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx pgx.Tx) error { return appendConsent(ctx, tx, events) })
}

// appendConsent inserts events inside tx, keeping their order in the ids.
func appendConsent(ctx context.Context, tx pgx.Tx, events []ConsentEvent) error {
	n := len(events)
	brands, msgs := make([]int64, n), make([]int64, n)
	phones, purposes, statuses, sources, evidence := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range events {
		brands[i], phones[i], purposes[i], statuses[i] = e.BrandID, e.Phone, e.Purpose, e.Status
		sources[i], evidence[i], msgs[i] = e.Source, e.Evidence, e.MessageID
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, message_id)
		SELECT b, p, pu, st, so, ev, nullif(m, 0)
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
			WITH ORDINALITY AS t(b, p, pu, st, so, ev, m, n)
		ORDER BY n`, brands, phones, purposes, statuses, sources, evidence, msgs)
	if err != nil {
		return fmt.Errorf("store: append consent: %w", err)
	}
	return nil
}
