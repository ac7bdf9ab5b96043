package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// UpsertContact creates or updates a contact by loyalty ID, else by the first
// known phone, and applies the identity rules to the other phones listed: a
// phone of a contact without a conflicting loyalty ID merges that contact in;
// a phone of another loyalty member moves alone (a recycled number). It all
// happens in one transaction.
//
// Locking: first a transaction advisory lock per phone involved (the same lock
// receive_inbound takes, so a text arriving mid-merge waits rather than
// creating a second contact) and one for the loyalty ID, in sorted order; then
// the contacts involved FOR UPDATE, by id. If those contacts turn out to hold
// phones that were not locked, the transaction starts over with them, so locks
// are only ever taken in sorted order and never deadlock with inbound batches.
func (s *Store) UpsertContact(ctx context.Context, in ContactUpsert) (UpsertResult, error) {
	if in.LoyaltyID == "" && len(in.Phones) == 0 {
		return UpsertResult{}, errors.New("store: upsert contact: a loyalty ID or a phone is needed")
	}
	keys := slices.Clone(in.Phones)
	if in.LoyaltyID != "" {
		keys = append(keys, "loyalty:"+in.LoyaltyID)
	}
	// A lock-free look at the phones of the contacts involved, so that the
	// usual case takes every lock it needs in one pass.
	pre, err := resolveContacts(ctx, s.Pool, in, false)
	if err != nil {
		return UpsertResult{}, err
	}
	keys = withKeys(keys, pre.phones())
	for range maxRelock {
		var res UpsertResult
		var missing []string
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			var err error
			res, missing, err = upsertContact(ctx, tx, in, keys)
			return err
		})
		if errors.Is(err, errRelock) {
			keys = withKeys(keys, missing)
			continue
		}
		if err != nil {
			return UpsertResult{}, err
		}
		return res, nil
	}
	return UpsertResult{}, errors.New("store: upsert contact: the contacts involved kept changing; try again")
}

// withKeys returns keys plus more, sorted and distinct.
func withKeys(keys, more []string) []string {
	out := append(slices.Clone(keys), more...)
	slices.Sort(out)
	return slices.Compact(out)
}

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// involved is a live contact an upsert touches.
type involved struct {
	id        int64
	loyaltyID string
}

// contactSnapshot is who holds what, as seen under the upsert's locks.
type contactSnapshot struct {
	contacts  map[int64]*involved
	owner     map[string]int64 // request phones and every phone of the contacts involved
	byLoyalty int64            // live contact with the request's loyalty ID, 0 for none
}

func (s *contactSnapshot) phones() []string {
	out := make([]string, 0, len(s.owner))
	for p := range s.owner {
		out = append(out, p)
	}
	return out
}

func (s *contactSnapshot) ownerOf(phone string) *involved {
	if id, ok := s.owner[phone]; ok {
		return s.contacts[id]
	}
	return nil
}

// resolveContacts finds the contact holding the loyalty ID and those holding
// the request's phones (locked FOR UPDATE, by id, when lock is set), and
// every phone those contacts hold.
func resolveContacts(ctx context.Context, q querier, in ContactUpsert, lock bool) (*contactSnapshot, error) {
	sql := `SELECT id, coalesce(loyalty_id, '') FROM contacts
		WHERE merged_into IS NULL AND (($1 <> '' AND loyalty_id = $1)
			OR id IN (SELECT contact_id FROM contact_phones WHERE phone = ANY($2)))
		ORDER BY id`
	if lock {
		sql += ` FOR UPDATE`
	}
	phones := in.Phones
	if phones == nil {
		phones = []string{}
	}
	rows, err := q.Query(ctx, sql, in.LoyaltyID, phones)
	if err != nil {
		return nil, fmt.Errorf("store: upsert contact: find contacts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*involved, error) {
		var c involved
		return &c, r.Scan(&c.id, &c.loyaltyID)
	})
	if err != nil {
		return nil, fmt.Errorf("store: upsert contact: find contacts: %w", err)
	}
	snap := &contactSnapshot{contacts: map[int64]*involved{}, owner: map[string]int64{}}
	ids := make([]int64, 0, len(list))
	for _, c := range list {
		snap.contacts[c.id] = c
		ids = append(ids, c.id)
		if in.LoyaltyID != "" && c.loyaltyID == in.LoyaltyID {
			snap.byLoyalty = c.id
		}
	}
	rows, err = q.Query(ctx, `SELECT phone, contact_id FROM contact_phones WHERE contact_id = ANY($1) OR phone = ANY($2)`, ids, phones)
	if err != nil {
		return nil, fmt.Errorf("store: upsert contact: find phones: %w", err)
	}
	var phone string
	var owner int64
	_, err = pgx.ForEachRow(rows, []any{&phone, &owner}, func() error {
		snap.owner[phone] = owner
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: upsert contact: find phones: %w", err)
	}
	return snap, nil
}

// advisoryLock takes the per-key transaction locks in sorted order, in one
// round trip.
func advisoryLock(ctx context.Context, tx pgx.Tx, keys []string) error {
	b := &pgx.Batch{}
	for _, k := range keys {
		b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, k)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store: upsert contact: lock: %w", err)
	}
	return nil
}

// contactUpsert is one attempt of UpsertContact inside its transaction.
type contactUpsert struct {
	tx      pgx.Tx
	in      ContactUpsert
	snap    *contactSnapshot
	target  *involved
	res     UpsertResult
	touched []int64 // conversations whose listeners must refresh
}

func upsertContact(ctx context.Context, tx pgx.Tx, in ContactUpsert, keys []string) (UpsertResult, []string, error) {
	if err := advisoryLock(ctx, tx, keys); err != nil {
		return UpsertResult{}, nil, err
	}
	snap, err := resolveContacts(ctx, tx, in, true)
	if err != nil {
		return UpsertResult{}, nil, err
	}
	locked := make(map[string]bool, len(keys))
	for _, k := range keys {
		locked[k] = true
	}
	var missing []string
	stale := false
	for p, owner := range snap.owner {
		if !locked[p] {
			missing = append(missing, p)
		}
		if snap.contacts[owner] == nil {
			stale = true // the phone changed hands between the two reads
		}
	}
	if len(missing) > 0 || stale {
		return UpsertResult{}, missing, errRelock
	}

	u := &contactUpsert{tx: tx, in: in, snap: snap}
	if err := u.pickTarget(ctx); err != nil {
		return UpsertResult{}, nil, err
	}
	if err := u.linkPhones(ctx); err != nil {
		return UpsertResult{}, nil, err
	}
	if err := u.applyFields(ctx); err != nil {
		return UpsertResult{}, nil, err
	}
	if err := u.recordConsent(ctx); err != nil {
		return UpsertResult{}, nil, err
	}
	if len(u.touched) > 0 {
		if _, err := tx.Exec(ctx, `SELECT pg_notify('parley_conversation', id::text) FROM unnest($1::bigint[]) AS id`, u.touched); err != nil {
			return UpsertResult{}, nil, fmt.Errorf("store: upsert contact: notify: %w", err)
		}
	}
	c, err := scanContact(tx.QueryRow(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.id = $1`, u.target.id))
	if err != nil {
		return UpsertResult{}, nil, fmt.Errorf("store: upsert contact %d: reload: %w", u.target.id, err)
	}
	u.res.Contact = c
	return u.res, nil, nil
}

// pickTarget chooses the contact the upsert is about: the loyalty member; else
// (with a loyalty ID) the first listed phone's contact that has no loyalty ID,
// which adopts it; else (without one) the first listed phone's contact; else a
// new contact.
func (u *contactUpsert) pickTarget(ctx context.Context) error {
	in := u.in
	if in.LoyaltyID != "" {
		if id := u.snap.byLoyalty; id != 0 {
			u.target = u.snap.contacts[id]
			return nil
		}
		for _, p := range in.Phones {
			if c := u.snap.ownerOf(p); c != nil && c.loyaltyID == "" {
				if _, err := u.tx.Exec(ctx, `UPDATE contacts SET loyalty_id = $2, updated_at = now() WHERE id = $1`, c.id, in.LoyaltyID); err != nil {
					return fmt.Errorf("store: upsert contact: adopt contact %d: %w", c.id, err)
				}
				c.loyaltyID = in.LoyaltyID
				u.target = c
				return nil
			}
		}
	} else {
		for _, p := range in.Phones {
			if c := u.snap.ownerOf(p); c != nil {
				u.target = c
				return nil
			}
		}
	}
	var id int64
	if err := u.tx.QueryRow(ctx, `INSERT INTO contacts (loyalty_id) VALUES (nullif($1, '')) RETURNING id`, in.LoyaltyID).Scan(&id); err != nil {
		return fmt.Errorf("store: upsert contact: create: %w", err)
	}
	u.target = &involved{id: id, loyaltyID: in.LoyaltyID}
	u.snap.contacts[id] = u.target
	u.res.Created = true
	return nil
}

// linkPhones gives every listed phone to the target: new phones are added,
// contacts that are the same person are merged in, and a phone of another
// loyalty member is moved alone.
func (u *contactUpsert) linkPhones(ctx context.Context) error {
	reason := MergePhonesLinked
	if u.in.LoyaltyID != "" {
		reason = MergeLoyaltyLinked
	}
	for _, p := range u.in.Phones {
		c := u.snap.ownerOf(p)
		switch {
		case c == nil:
			if _, err := u.tx.Exec(ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2)`, p, u.target.id); err != nil {
				return fmt.Errorf("store: upsert contact %d: add phone: %w", u.target.id, err)
			}
			u.snap.owner[p] = u.target.id
		case c.id == u.target.id:
		case c.loyaltyID != "" && u.target.loyaltyID != "" && c.loyaltyID != u.target.loyaltyID:
			if err := u.reassignPhone(ctx, p, c); err != nil {
				return err
			}
		default:
			if err := u.merge(ctx, c, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// merge folds contact a into the target: phones, attributes the target lacks,
// name and time zone if the target has none, its loyalty ID if the target has
// none, and its conversations; a keeps its row with merged_into set.
func (u *contactUpsert) merge(ctx context.Context, a *involved, reason string) error {
	s := u.target
	tx := u.tx
	fail := func(step string, err error) error {
		return fmt.Errorf("store: merge contact %d into %d: %s: %w", a.id, s.id, step, err)
	}
	// Retire a first, so its loyalty ID leaves the unique index before the
	// survivor takes it; contacts merged into a earlier now point at s.
	var d MergeDetail
	err := tx.QueryRow(ctx, `
		SELECT s.name = '' AND a.name <> '', s.timezone = '' AND a.timezone <> '',
			s.loyalty_id IS NULL AND a.loyalty_id IS NOT NULL,
			array(SELECT k FROM jsonb_object_keys(a.attributes) k WHERE NOT s.attributes ? k ORDER BY k)
		FROM contacts s, contacts a WHERE s.id = $1 AND a.id = $2`, s.id, a.id).
		Scan(&d.NameTaken, &d.TimezoneTaken, &d.LoyaltyIDTaken, &d.AttributesTaken)
	if err != nil {
		return fail("read", err)
	}
	rows, err := tx.Query(ctx, `UPDATE contacts SET merged_into = $1, updated_at = now() WHERE id = $2 OR merged_into = $2 RETURNING id`, s.id, a.id)
	if err != nil {
		return fail("retire", err)
	}
	retired, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fail("retire", err)
	}
	for _, id := range retired {
		if id != a.id {
			d.ContactsRepointed = append(d.ContactsRepointed, id)
		}
	}
	slices.Sort(d.ContactsRepointed)
	err = tx.QueryRow(ctx, `
		UPDATE contacts s SET
			attributes = a.attributes || s.attributes,
			name = CASE WHEN s.name = '' THEN a.name ELSE s.name END,
			timezone = CASE WHEN s.timezone = '' THEN a.timezone ELSE s.timezone END,
			loyalty_id = coalesce(s.loyalty_id, a.loyalty_id),
			updated_at = now()
		FROM contacts a WHERE s.id = $1 AND a.id = $2
		RETURNING coalesce(s.loyalty_id, '')`, s.id, a.id).Scan(&s.loyaltyID)
	if err != nil {
		return fail("fields", err)
	}
	rows, err = tx.Query(ctx, `UPDATE contact_phones SET contact_id = $1 WHERE contact_id = $2 RETURNING phone`, s.id, a.id)
	if err != nil {
		return fail("phones", err)
	}
	if d.PhonesMoved, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fail("phones", err)
	}
	slices.Sort(d.PhonesMoved)
	for _, p := range d.PhonesMoved {
		u.snap.owner[p] = s.id
	}
	if err := u.mergeConversations(ctx, a.id, &d); err != nil {
		return fail("conversations", err)
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&d.LastMessageID); err != nil {
		return fail("watermark", err)
	}
	if err := insertMerge(ctx, tx, s.id, a.id, reason, d, u.in.MadeBy); err != nil {
		return fail("record", err)
	}
	delete(u.snap.contacts, a.id)
	u.res.Absorbed = append(u.res.Absorbed, a.id)
	return nil
}

type convRef struct{ id, brandID int64 }

func lockConversations(ctx context.Context, tx pgx.Tx, contactID int64) ([]convRef, error) {
	rows, err := tx.Query(ctx, `SELECT id, brand_id FROM conversations
		WHERE contact_id = $1 AND merged_into IS NULL ORDER BY id FOR UPDATE`, contactID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (convRef, error) {
		var c convRef
		return c, r.Scan(&c.id, &c.brandID)
	})
}

// mergeConversations gives the absorbed contact's conversations to the
// survivor. Where both talk with the same brand, the absorbed conversation's
// messages move into the survivor's, which takes the latest activity, the
// phone last written from and the most urgent status; the absorbed one keeps
// its row with merged_into set so links to it still resolve.
func (u *contactUpsert) mergeConversations(ctx context.Context, absorbedID int64, d *MergeDetail) error {
	tx := u.tx
	mine, err := lockConversations(ctx, tx, u.target.id)
	if err != nil {
		return err
	}
	theirs, err := lockConversations(ctx, tx, absorbedID)
	if err != nil {
		return err
	}
	byBrand := make(map[int64]int64, len(mine))
	for _, c := range mine {
		byBrand[c.brandID] = c.id
	}
	for _, ac := range theirs {
		sc, ok := byBrand[ac.brandID]
		if !ok {
			if _, err := tx.Exec(ctx, `UPDATE conversations SET contact_id = $1, updated_at = now() WHERE id = $2`, u.target.id, ac.id); err != nil {
				return err
			}
			d.ConversationsMoved = append(d.ConversationsMoved, ac.id)
			u.touched = append(u.touched, ac.id)
			continue
		}
		cm := ConversationMerge{From: ac.id, Into: sc, BrandID: ac.brandID}
		if cm.MessageIDs, err = moveRows(ctx, tx, "messages", sc, ac.id); err != nil {
			return err
		}
		if cm.NoteIDs, err = moveRows(ctx, tx, "conversation_notes", sc, ac.id); err != nil {
			return err
		}
		if cm.ActivityIDs, err = moveRows(ctx, tx, "conversation_activity", sc, ac.id); err != nil {
			return err
		}
		cm.MessagesMoved = int64(len(cm.MessageIDs))
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = $1`, sc).Scan(&cm.IntoLastID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE conversations s SET
				labels = ARRAY(SELECT DISTINCT unnest(s.labels || a.labels) ORDER BY 1),
				answered_at = greatest(s.answered_at, a.answered_at),
				waiting_since = CASE WHEN s.waiting_since IS NULL THEN a.waiting_since
				                     WHEN a.waiting_since IS NULL THEN s.waiting_since
				                     ELSE least(s.waiting_since, a.waiting_since) END
			FROM conversations a WHERE s.id = $1 AND a.id = $2`, sc, ac.id)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE conversations s SET
				last_phone = CASE WHEN a.last_message_at > s.last_message_at THEN a.last_phone ELSE s.last_phone END,
				last_message_at = greatest(s.last_message_at, a.last_message_at),
				last_inbound_at = greatest(s.last_inbound_at, a.last_inbound_at),
				status = CASE WHEN 'open' IN (s.status, a.status) THEN 'open'
				              WHEN 'snoozed' IN (s.status, a.status) THEN 'snoozed' ELSE 'closed' END,
				assignee_id = coalesce(s.assignee_id, a.assignee_id),
				needs_attention = CASE WHEN s.needs_attention <> '' THEN s.needs_attention ELSE a.needs_attention END,
				updated_at = now()
			FROM conversations a WHERE s.id = $1 AND a.id = $2`, sc, ac.id)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE conversations SET merged_into = $1, updated_at = now() WHERE id = $2 OR merged_into = $2 RETURNING id`, sc, ac.id)
		if err != nil {
			return err
		}
		folded, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range folded {
			if id != ac.id {
				cm.Repointed = append(cm.Repointed, id)
			}
		}
		slices.Sort(cm.Repointed)
		d.ConversationsMerged = append(d.ConversationsMerged, cm)
		u.touched = append(u.touched, sc, ac.id)
	}
	return nil
}

// reassignPhone moves one phone from another loyalty member to the target. The
// old owner keeps its history; its conversations that would answer to this
// phone answer to its newest other phone, or are flagged when it has none.
func (u *contactUpsert) reassignPhone(ctx context.Context, phone string, from *involved) error {
	tx := u.tx
	fail := func(step string, err error) error {
		return fmt.Errorf("store: move phone from contact %d to %d: %s: %w", from.id, u.target.id, step, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE contact_phones SET contact_id = $1, created_at = now() WHERE phone = $2`, u.target.id, phone); err != nil {
		return fail("phone", err)
	}
	d := MergeDetail{Phone: phone}
	err := tx.QueryRow(ctx, `SELECT phone FROM contact_phones WHERE contact_id = $1 ORDER BY created_at DESC, phone LIMIT 1`, from.id).Scan(&d.RepliesNowTo)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fail("other phone", err)
	}
	var rows pgx.Rows
	if d.RepliesNowTo != "" {
		rows, err = tx.Query(ctx, `UPDATE conversations SET last_phone = $3, updated_at = now()
			WHERE contact_id = $1 AND merged_into IS NULL AND last_phone = $2 RETURNING id`, from.id, phone, d.RepliesNowTo)
	} else {
		rows, err = tx.Query(ctx, `UPDATE conversations
			SET needs_attention = 'the number ' || $2 || ' was reassigned to another customer; this customer has no phone left',
				updated_at = now()
			WHERE contact_id = $1 AND merged_into IS NULL AND last_phone = $2 RETURNING id`, from.id, phone)
	}
	if err != nil {
		return fail("conversations", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fail("conversations", err)
	}
	if d.RepliesNowTo != "" {
		d.ConversationsRepointed = ids
	} else {
		d.ConversationsFlagged = ids
	}
	u.touched = append(u.touched, ids...)
	// A previous owner's marketing consent does not pass to the new owner of a
	// reassigned number: close every marketing opt-in the phone holds.
	if _, err := tx.Exec(ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence)
		SELECT brand_id, $1, 'marketing', 'opted_out', 'api',
			'number reassigned from contact ' || $2::bigint || ' to contact ' || $3::bigint
		FROM (SELECT DISTINCT ON (brand_id) brand_id, status FROM consent_events
			WHERE phone = $1 AND purpose = 'marketing' ORDER BY brand_id, id DESC) newest
		WHERE status = 'opted_in'`, phone, from.id, u.target.id); err != nil {
		return fail("consent", err)
	}
	if err := insertMerge(ctx, tx, u.target.id, from.id, PhoneReassigned, d, u.in.MadeBy); err != nil {
		return fail("record", err)
	}
	u.snap.owner[phone] = u.target.id
	u.res.Reassigned = append(u.res.Reassigned, phone)
	return nil
}

// moveRows moves a conversation's rows of table (messages, notes or
// activity) to conversation into and returns their ids, sorted.
func moveRows(ctx context.Context, tx pgx.Tx, table string, into, from int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `UPDATE `+table+` SET conversation_id = $1 WHERE conversation_id = $2 RETURNING id`, into, from)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	slices.Sort(ids)
	return ids, err
}

// insertMerge records a merge; madeBy is the console user who caused it (0:
// the API, an import or an inbound text).
func insertMerge(ctx context.Context, tx pgx.Tx, survivor, absorbed int64, reason string, d MergeDetail, madeBy int64) error {
	detail, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO contact_merges (survivor_id, absorbed_id, reason, detail, made_by, by_person)
		VALUES ($1, $2, $3, $4, nullif($5, 0), $5 <> 0)`,
		survivor, absorbed, reason, detail, madeBy)
	return err
}

// applyFields writes the request's own name, time zone and attributes last, so
// they win over anything a merge brought in.
// applyFields writes the request's fields; a contact they would not change
// is left as it is (its updated_at too).
func (u *contactUpsert) applyFields(ctx context.Context) error {
	set := u.in.SetAttributes
	if set == nil {
		set = map[string]any{}
	}
	setJSON, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("store: upsert contact %d: attributes: %w", u.target.id, err)
	}
	drop := u.in.DropAttributes
	if drop == nil {
		drop = []string{}
	}
	_, err = u.tx.Exec(ctx, `
		UPDATE contacts SET
			name = CASE WHEN $2 <> '' THEN $2 ELSE name END,
			timezone = CASE WHEN $3 <> '' THEN $3 ELSE timezone END,
			attributes = (attributes || $4::jsonb) - $5::text[],
			updated_at = now()
		WHERE id = $1 AND (($2 <> '' AND name <> $2) OR ($3 <> '' AND timezone <> $3)
			OR attributes IS DISTINCT FROM (attributes || $4::jsonb) - $5::text[])`, u.target.id, u.in.Name, u.in.Timezone, setJSON, drop)
	if err != nil {
		return fmt.Errorf("store: upsert contact %d: fields: %w", u.target.id, err)
	}
	return nil
}

// recordConsent appends the request's consent entries for the listed phones,
// or for every phone of the contact when none were listed.
func (u *contactUpsert) recordConsent(ctx context.Context) error {
	if len(u.in.Consent) == 0 {
		return nil
	}
	phones := u.in.Phones
	if len(phones) == 0 {
		rows, err := u.tx.Query(ctx, `SELECT phone FROM contact_phones WHERE contact_id = $1 ORDER BY phone`, u.target.id)
		if err != nil {
			return fmt.Errorf("store: upsert contact %d: phones for consent: %w", u.target.id, err)
		}
		if phones, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("store: upsert contact %d: phones for consent: %w", u.target.id, err)
		}
	}
	if len(phones) == 0 {
		return fmt.Errorf("store: upsert contact %d: consent: %w", u.target.id, ErrNoPhones)
	}
	events := make([]ConsentEvent, 0, len(u.in.Consent)*len(phones))
	for _, c := range u.in.Consent {
		for _, p := range phones {
			events = append(events, ConsentEvent{BrandID: c.BrandID, Phone: p, Purpose: c.Purpose,
				Status: c.Status, Source: c.Source, Evidence: c.Evidence})
		}
	}
	u.res.Consent = events
	return appendConsent(ctx, u.tx, events)
}
