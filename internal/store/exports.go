package store

import (
	"context"
	"fmt"
)

// exportWindow is how many ids one query of an export covers: an export
// reads the table in consecutive id ranges (keyset by id), each one short
// query, so it holds no snapshot for its whole length, however large (the
// HOT updates of the inbound path need vacuum to keep up). A range rather
// than a LIMIT bounds each query's work whatever its plan: without
// statistics (a table just filled by an import), the planner sorted every
// remaining row for each page of 1,000, and 50,000 contacts took 7 s
// instead of 0.9 s.
const exportWindow = 5000

// A brand's contacts are the live contacts that have a conversation with
// the brand, or one of whose phones has a consent entry at the brand. It
// is the union of the two relations the code already keeps between people
// and brands — the inbox's (a conversation is keyed by brand and contact)
// and the ledger's (consent is per brand and phone, so it follows the
// phone to its current owner) — and so a superset of a campaign audience's
// candidates (buildAudience: phones with a marketing entry at the brand).
// Contacts are otherwise not per brand: an import without consent columns
// links nobody to its brand. Merged (absorbed) contacts are never the
// brand's: their survivor is.
//
// The rule is written twice, for two plans. brandContactIDs is the set of
// their ids, built once with hash joins, for a query over all of them;
// brandContactRow tests one contact c of brandContactFrom with index
// probes, for one id range of an export, where building the set again for
// every range would make an export quadratic. $1 is the brand.
const (
	brandContactIDs = `(SELECT cv.contact_id FROM conversations cv WHERE cv.brand_id = $1 AND cv.merged_into IS NULL
		UNION SELECT p.contact_id FROM contact_phones p JOIN consent_events ce ON ce.brand_id = $1 AND ce.phone = p.phone)`
	// OFFSET 0 keeps the phones a subquery of their own, computed once per
	// contact: inlined, the array would be rebuilt by every expression
	// that reads it.
	brandContactFrom = `contacts c
		CROSS JOIN LATERAL (SELECT array(SELECT p.phone FROM contact_phones p WHERE p.contact_id = c.id ORDER BY p.phone) AS phones OFFSET 0) ph`
	brandContactRow = `c.merged_into IS NULL AND (
		EXISTS (SELECT 1 FROM conversations cv WHERE cv.brand_id = $1 AND cv.contact_id = c.id AND cv.merged_into IS NULL)
		OR EXISTS (SELECT 1 FROM unnest(ph.phones) AS x(phone) JOIN consent_events ce ON ce.brand_id = $1 AND ce.phone = x.phone))`
)

// ContactExport is one row of a brand's contacts export.
type ContactExport struct {
	ID        int64
	Phones    []string // sorted, as Contact.Phones
	LoyaltyID string   // "" when none
	Name      string
	Timezone  string
	// Attributes holds, in the order of the keys the header callback chose,
	// each attribute as text (Postgres's ->>: strings as they are, numbers
	// in plain decimal, never with an exponent, booleans true/false,
	// objects and arrays as JSON); nil when the contact lacks it or it is
	// null.
	Attributes []*string
	// Marketing and Conversational are the newest consent states (opted_in,
	// opted_out; "" for none) at the brand of the first of Phones.
	Marketing, Conversational string
}

// ExportContacts streams brand's contacts (see brandContactIDs) by id.
// First it reads, in one aggregate query, every attribute key the exported
// contacts hold (sorted by byte) and hands them to header, which returns
// the keys whose values each row carries, in the order wanted; then it
// calls each once per contact, as the rows arrive, one id range
// (exportWindow) per query. Memory stays flat whatever the number of
// contacts. The export covers the contacts that existed when it started,
// each row read consistently, but the file is not one snapshot: a contact
// merged while it runs may be missing, and an attribute key first written
// meanwhile is not among the columns. An error from header or each stops
// the export and is returned as it is.
func (s *Store) ExportContacts(ctx context.Context, brandID int64, header func(keys []string) ([]string, error),
	each func(ContactExport) error) error {
	var upto int64
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM contacts`).Scan(&upto); err != nil {
		return fmt.Errorf("store: export contacts of brand %d: %w", brandID, err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT DISTINCT k COLLATE "C" FROM contacts c CROSS JOIN LATERAL jsonb_object_keys(c.attributes) k
		WHERE c.id <= $2 AND c.merged_into IS NULL AND c.attributes <> '{}'::jsonb AND c.id IN `+brandContactIDs+` ORDER BY 1`, brandID, upto)
	if err != nil {
		return fmt.Errorf("store: attribute keys of brand %d: %w", brandID, err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return fmt.Errorf("store: attribute keys of brand %d: %w", brandID, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: attribute keys of brand %d: %w", brandID, err)
	}
	if keys, err = header(keys); err != nil {
		return err
	}
	if keys == nil {
		keys = []string{}
	}
	for after := int64(0); after < upto; after += exportWindow {
		if err := s.exportContactRange(ctx, brandID, after, min(after+exportWindow, upto), keys, each); err != nil {
			return err
		}
	}
	return nil
}

// exportContactRange streams the brand's contacts with ids in (after, to].
func (s *Store) exportContactRange(ctx context.Context, brandID, after, to int64, keys []string, each func(ContactExport) error) error {
	rows, err := s.Pool.Query(ctx, `
		SELECT c.id, ph.phones, coalesce(c.loyalty_id, ''), c.name, c.timezone,
			array(SELECT c.attributes ->> u.k FROM unnest($4::text[]) WITH ORDINALITY AS u(k, n) ORDER BY u.n),
			coalesce((SELECT ce.status FROM consent_events ce WHERE ce.brand_id = $1 AND ce.phone = ph.phones[1]
				AND ce.purpose = 'marketing' ORDER BY ce.id DESC LIMIT 1), ''),
			coalesce((SELECT ce.status FROM consent_events ce WHERE ce.brand_id = $1 AND ce.phone = ph.phones[1]
				AND ce.purpose = 'conversational' ORDER BY ce.id DESC LIMIT 1), '')
		FROM `+brandContactFrom+`
		WHERE c.id > $2 AND c.id <= $3 AND `+brandContactRow+`
		ORDER BY c.id`, brandID, after, to, keys)
	if err != nil {
		return fmt.Errorf("store: export contacts of brand %d: %w", brandID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ContactExport
		if err := rows.Scan(&r.ID, &r.Phones, &r.LoyaltyID, &r.Name, &r.Timezone, &r.Attributes, &r.Marketing, &r.Conversational); err != nil {
			return fmt.Errorf("store: export contacts of brand %d: %w", brandID, err)
		}
		if err := each(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: export contacts of brand %d: %w", brandID, err)
	}
	return nil
}

// ExportConsent streams brand's whole consent ledger, oldest first (by
// id), calling each once per entry as the rows arrive, one id range per
// query, in constant memory. It covers the entries recorded before it
// started. An error from each stops it and is returned as it is.
func (s *Store) ExportConsent(ctx context.Context, brandID int64, each func(ConsentEvent) error) error {
	var upto int64
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM consent_events`).Scan(&upto); err != nil {
		return fmt.Errorf("store: export consent of brand %d: %w", brandID, err)
	}
	for after := int64(0); after < upto; after += exportWindow {
		if err := s.exportConsentRange(ctx, brandID, after, min(after+exportWindow, upto), each); err != nil {
			return err
		}
	}
	return nil
}

// exportConsentRange streams the brand's ledger entries with ids in (after, to].
func (s *Store) exportConsentRange(ctx context.Context, brandID, after, to int64, each func(ConsentEvent) error) error {
	rows, err := s.Pool.Query(ctx, `
		SELECT ce.id, ce.brand_id, ce.phone, ce.purpose, ce.status, ce.source, ce.evidence, coalesce(ce.message_id, 0), ce.created_at,
			coalesce(att.id, 0)
		FROM consent_events ce `+consentAttribution+`
		WHERE ce.brand_id = $1 AND ce.id > $2 AND ce.id <= $3 ORDER BY ce.id`, brandID, after, to)
	if err != nil {
		return fmt.Errorf("store: export consent of brand %d: %w", brandID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e ConsentEvent
		if err := rows.Scan(&e.ID, &e.BrandID, &e.Phone, &e.Purpose, &e.Status, &e.Source, &e.Evidence, &e.MessageID, &e.CreatedAt,
			&e.CampaignID); err != nil {
			return fmt.Errorf("store: export consent of brand %d: %w", brandID, err)
		}
		if err := each(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: export consent of brand %d: %w", brandID, err)
	}
	return nil
}
