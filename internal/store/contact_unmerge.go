package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MergeUndoWindow is how long after a merge made in the console an admin can
// undo it.
const MergeUndoWindow = 7 * 24 * time.Hour

// UndoRefusedError says why a merge cannot be undone; nothing was changed.
type UndoRefusedError struct{ Reason string }

func (e *UndoRefusedError) Error() string { return "store: undo merge: " + e.Reason }

func refuseUndo(format string, args ...any) error {
	return &UndoRefusedError{Reason: fmt.Sprintf(format, args...)}
}

// PersonMerge is a merge made in the console, as the admin page lists it.
type PersonMerge struct {
	ContactMerge
	MadeByEmail, UndoneByEmail string
	SurvivorName, AbsorbedName string
	LoyaltyID                  string // the survivor's
}

// PersonMerges lists merges made in the console since since, newest first,
// keyset-paginated: before is the id of the last row of the previous page
// (0 for the first page).
func (s *Store) PersonMerges(ctx context.Context, since time.Time, before int64, limit int) ([]PersonMerge, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT m.id, m.survivor_id, m.absorbed_id, m.reason, m.detail, m.created_at,
			m.by_person, coalesce(m.made_by, 0), m.undone_at, coalesce(m.undone_by, 0),
			coalesce(mu.email, ''), coalesce(uu.email, ''), sc.name, ac.name, coalesce(sc.loyalty_id, '')
		FROM contact_merges m
		JOIN contacts sc ON sc.id = m.survivor_id
		JOIN contacts ac ON ac.id = m.absorbed_id
		LEFT JOIN users mu ON mu.id = m.made_by
		LEFT JOIN users uu ON uu.id = m.undone_by
		WHERE m.by_person AND m.created_at >= $1 AND ($2::bigint = 0 OR m.id < $2::bigint)
		ORDER BY m.id DESC LIMIT $3`, since, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: console merges: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PersonMerge, error) {
		var m PersonMerge
		var detail []byte
		err := r.Scan(&m.ID, &m.SurvivorID, &m.AbsorbedID, &m.Reason, &detail, &m.CreatedAt,
			&m.ByPerson, &m.MadeBy, &m.UndoneAt, &m.UndoneBy,
			&m.MadeByEmail, &m.UndoneByEmail, &m.SurvivorName, &m.AbsorbedName, &m.LoyaltyID)
		if err != nil {
			return m, err
		}
		return m, json.Unmarshal(detail, &m.Detail)
	})
	if err != nil {
		return nil, fmt.Errorf("store: console merges: %w", err)
	}
	return out, nil
}

// UndoneMerge says what an undo put back, for the history and the page.
type UndoneMerge struct {
	Merge         ContactMerge
	Conversations []int64 // every conversation that changed
}

// UndoMerge undoes merge id, made in the console within MergeUndoWindow of
// now: the absorbed contact lives again with its phones, its conversations
// and, where they were folded into the survivor's, their messages, notes and
// activity, plus the texts to or from its phones since; what the survivor
// took from it (attributes, name, time zone, loyalty ID it lacked) goes back
// unless changed since. It is refused, changing nothing, when a later merge
// or a phone move involves either contact (undo that first, or the state is
// no longer the merge's), or when what it moved has moved again.
// adminID is recorded as who undid it, in the merge row and in each
// conversation's history.
func (s *Store) UndoMerge(ctx context.Context, id, adminID int64, now time.Time) (UndoneMerge, error) {
	var out UndoneMerge
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = undoMerge(ctx, tx, id, adminID, now)
		return err
	})
	return out, err
}

func undoMerge(ctx context.Context, tx pgx.Tx, id, adminID int64, now time.Time) (UndoneMerge, error) {
	var m ContactMerge
	var detail []byte
	err := tx.QueryRow(ctx, `SELECT id, survivor_id, absorbed_id, reason, detail, created_at, by_person, undone_at
		FROM contact_merges WHERE id = $1 FOR UPDATE`, id).
		Scan(&m.ID, &m.SurvivorID, &m.AbsorbedID, &m.Reason, &detail, &m.CreatedAt, &m.ByPerson, &m.UndoneAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: %w", id, err)
	}
	if err := json.Unmarshal(detail, &m.Detail); err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: detail: %w", id, err)
	}
	d := m.Detail
	switch {
	case !m.ByPerson || (m.Reason != MergeLoyaltyLinked && m.Reason != MergePhonesLinked):
		return UndoneMerge{}, refuseUndo("only a merge made in the console can be undone")
	case m.UndoneAt != nil:
		return UndoneMerge{}, refuseUndo("this merge was already undone")
	case now.Sub(m.CreatedAt) > MergeUndoWindow:
		return UndoneMerge{}, refuseUndo("a merge can be undone within 7 days; this one was made on %s", m.CreatedAt.UTC().Format("2006-01-02 15:04 MST"))
	}

	// The same locks an upsert takes (phones and loyalty IDs, sorted), so no
	// text or upsert for these customers runs in between.
	var keys []string
	rows, err := tx.Query(ctx, `SELECT phone FROM contact_phones WHERE contact_id = ANY($1)`, []int64{m.SurvivorID, m.AbsorbedID})
	if err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: phones: %w", id, err)
	}
	if keys, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: phones: %w", id, err)
	}
	rows, err = tx.Query(ctx, `SELECT 'loyalty:' || loyalty_id FROM contacts WHERE id = ANY($1) AND loyalty_id IS NOT NULL`, []int64{m.SurvivorID, m.AbsorbedID})
	if err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: loyalty: %w", id, err)
	}
	loyalty, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: loyalty: %w", id, err)
	}
	if err := advisoryLock(ctx, tx, withKeys(withKeys(keys, loyalty), d.PhonesMoved)); err != nil {
		return UndoneMerge{}, err
	}
	if err := checkUndo(ctx, tx, m); err != nil {
		return UndoneMerge{}, err
	}
	touched, err := putBack(ctx, tx, m)
	if err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE contact_merges SET undone_at = $2, undone_by = nullif($3, 0) WHERE id = $1`, id, now, adminID); err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: record: %w", id, err)
	}
	note := fmt.Sprintf("merge of customer #%d into #%d undone: phones %s went back", m.AbsorbedID, m.SurvivorID, strings.Join(d.PhonesMoved, ", "))
	if _, err := tx.Exec(ctx, `
		WITH a AS (INSERT INTO conversation_activity (conversation_id, actor_id, kind, detail)
			SELECT c, nullif($2, 0), 'unlinked', $3 FROM unnest($1::bigint[]) c)
		SELECT pg_notify('parley_conversation', c::text) FROM unnest($1::bigint[]) c`, touched, adminID, note); err != nil {
		return UndoneMerge{}, fmt.Errorf("store: undo merge %d: history: %w", id, err)
	}
	now = now.UTC()
	m.UndoneAt, m.UndoneBy = &now, adminID
	return UndoneMerge{Merge: m, Conversations: touched}, nil
}

// checkUndo refuses an undo when the merge's result is no longer as it left
// it. The contacts are locked here, after the advisory locks.
func checkUndo(ctx context.Context, tx pgx.Tx, m ContactMerge) error {
	rows, err := tx.Query(ctx, `SELECT id, coalesce(merged_into, 0) FROM contacts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`,
		m.SurvivorID, m.AbsorbedID)
	if err != nil {
		return fmt.Errorf("store: undo merge %d: contacts: %w", m.ID, err)
	}
	into := map[int64]int64{}
	var cid, mid int64
	if _, err := pgx.ForEachRow(rows, []any{&cid, &mid}, func() error { into[cid] = mid; return nil }); err != nil {
		return fmt.Errorf("store: undo merge %d: contacts: %w", m.ID, err)
	}
	absorbedInto, survivorInto := into[m.AbsorbedID], into[m.SurvivorID]
	var later int64
	err = tx.QueryRow(ctx, `SELECT coalesce(min(id), 0) FROM contact_merges
		WHERE id > $1 AND undone_at IS NULL AND (survivor_id IN ($2, $3) OR absorbed_id IN ($2, $3))`,
		m.ID, m.SurvivorID, m.AbsorbedID).Scan(&later)
	if err != nil {
		return fmt.Errorf("store: undo merge %d: later merges: %w", m.ID, err)
	}
	if later != 0 {
		return refuseUndo("a later merge or phone move (#%d) involves these customers; undo that first if it was made in the console", later)
	}
	if absorbedInto != m.SurvivorID || survivorInto != 0 {
		return refuseUndo("the customers were merged differently since")
	}
	d := m.Detail
	var phones int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM contact_phones WHERE phone = ANY($1) AND contact_id = $2`,
		d.PhonesMoved, m.SurvivorID).Scan(&phones); err != nil {
		return fmt.Errorf("store: undo merge %d: phones: %w", m.ID, err)
	}
	if phones != len(d.PhonesMoved) {
		return refuseUndo("a phone the merge moved has moved again since")
	}
	convs := slices.Clone(d.ConversationsMoved)
	var intos []int64
	for _, cm := range d.ConversationsMerged {
		convs = append(convs, cm.From, cm.Into)
		intos = append(intos, cm.Into)
	}
	var bad int
	err = tx.QueryRow(ctx, `SELECT count(*) FROM conversations c WHERE c.id = ANY($1) AND NOT (
			(c.id = ANY($2) AND c.contact_id = $4 AND c.merged_into IS NULL) OR
			(c.id = ANY($3) AND c.merged_into IS NOT NULL))`,
		convs, append(slices.Clone(d.ConversationsMoved), intos...), fromIDs(d), m.SurvivorID).Scan(&bad)
	if err != nil {
		return fmt.Errorf("store: undo merge %d: conversations: %w", m.ID, err)
	}
	if bad != 0 {
		return refuseUndo("a conversation the merge changed has been merged or moved since")
	}
	// A conversation the merge gave the member whole goes back whole: it
	// must hold no text the member wrote (or was sent) from their own
	// phones since.
	var theirs int
	err = tx.QueryRow(ctx, `SELECT count(*) FROM messages m WHERE m.conversation_id = ANY($1) AND m.id > $2
		AND NOT (CASE WHEN m.direction = 'inbound' THEN m.from_number ELSE m.to_number END = ANY($3))`,
		d.ConversationsMoved, d.LastMessageID, d.PhonesMoved).Scan(&theirs)
	if err != nil {
		return fmt.Errorf("store: undo merge %d: later texts: %w", m.ID, err)
	}
	if theirs != 0 {
		return refuseUndo("the member has texted since in a conversation the merge gave them; undoing it would take their texts away")
	}
	// Conversations opened since from a phone going back go back too; one
	// that mixes both customers' phones cannot be split.
	var mixed int
	err = tx.QueryRow(ctx, `SELECT count(*) FROM conversations c WHERE c.contact_id = $1 AND c.merged_into IS NULL
		AND c.id <> ALL($2) AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.id > $3
			AND CASE WHEN m.direction = 'inbound' THEN m.from_number ELSE m.to_number END = ANY($4))
		AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
			AND NOT (CASE WHEN m.direction = 'inbound' THEN m.from_number ELSE m.to_number END = ANY($4)))`,
		m.SurvivorID, intos, d.LastMessageID, d.PhonesMoved).Scan(&mixed)
	if err != nil {
		return fmt.Errorf("store: undo merge %d: new conversations: %w", m.ID, err)
	}
	if mixed != 0 {
		return refuseUndo("since the merge, a conversation holds texts of both customers' phones; it cannot be split")
	}
	return nil
}

func fromIDs(d MergeDetail) []int64 {
	ids := make([]int64, 0, len(d.ConversationsMerged))
	for _, cm := range d.ConversationsMerged {
		ids = append(ids, cm.From)
	}
	return ids
}

// putBack reverses the merge's writes and returns the conversations changed.
func putBack(ctx context.Context, tx pgx.Tx, m ContactMerge) ([]int64, error) {
	d := m.Detail
	s, a := m.SurvivorID, m.AbsorbedID
	// What the survivor took, unless it changed since: its loyalty ID first,
	// so the absorbed contact can hold it again under the unique index.
	if _, err := tx.Exec(ctx, `
		UPDATE contacts s SET
			attributes = s.attributes - array(SELECT k FROM unnest($3::text[]) k WHERE s.attributes -> k = a.attributes -> k),
			name = CASE WHEN $4 AND s.name = a.name THEN '' ELSE s.name END,
			timezone = CASE WHEN $5 AND s.timezone = a.timezone THEN '' ELSE s.timezone END,
			loyalty_id = CASE WHEN $6 AND s.loyalty_id = a.loyalty_id THEN NULL ELSE s.loyalty_id END,
			updated_at = now()
		FROM contacts a WHERE s.id = $1 AND a.id = $2`,
		s, a, d.AttributesTaken, d.NameTaken, d.TimezoneTaken, d.LoyaltyIDTaken); err != nil {
		return nil, fmt.Errorf("survivor: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE contacts SET merged_into = CASE WHEN id = $2 THEN NULL ELSE $2 END, updated_at = now()
		WHERE id = $2 OR (id = ANY($3) AND merged_into = $1)`, s, a, d.ContactsRepointed); err != nil {
		return nil, fmt.Errorf("absorbed: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE contact_phones SET contact_id = $2 WHERE phone = ANY($1) AND contact_id = $3`, d.PhonesMoved, a, s); err != nil {
		return nil, fmt.Errorf("phones: %w", err)
	}
	var intos []int64
	for _, cm := range d.ConversationsMerged {
		intos = append(intos, cm.Into)
	}
	// Conversations opened since only from phones going back (checkUndo
	// refused mixed ones) go back with them.
	rows, err := tx.Query(ctx, `SELECT c.id FROM conversations c WHERE c.contact_id = $1 AND c.merged_into IS NULL
		AND c.id <> ALL($2) AND c.id <> ALL($3) AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.id > $4
			AND CASE WHEN m.direction = 'inbound' THEN m.from_number ELSE m.to_number END = ANY($5))`,
		s, intos, d.ConversationsMoved, d.LastMessageID, d.PhonesMoved)
	if err != nil {
		return nil, fmt.Errorf("new conversations: %w", err)
	}
	opened, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("new conversations: %w", err)
	}
	back := append(slices.Clone(d.ConversationsMoved), opened...)
	touched := slices.Clone(back)
	if _, err := tx.Exec(ctx, `UPDATE conversations SET contact_id = $2, updated_at = now() WHERE id = ANY($1)`, back, a); err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	for _, c := range back {
		if _, err := tx.Exec(ctx, refreshActivity, c); err != nil {
			return nil, fmt.Errorf("conversation %d: %w", c, err)
		}
	}
	for _, cm := range d.ConversationsMerged {
		if err := unfold(ctx, tx, cm, d.PhonesMoved); err != nil {
			return nil, fmt.Errorf("conversation %d from %d: %w", cm.From, cm.Into, err)
		}
		touched = append(touched, cm.From, cm.Into)
	}
	slices.Sort(touched)
	return slices.Compact(touched), nil
}

// unfold takes a folded conversation out of the one it was folded into.
func unfold(ctx context.Context, tx pgx.Tx, cm ConversationMerge, phones []string) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE messages SET conversation_id = $2
		WHERE conversation_id = $1 AND (id = ANY($3) OR (id > $4 AND
			CASE WHEN direction = 'inbound' THEN from_number ELSE to_number END = ANY($5)))`,
		cm.Into, cm.From, cm.MessageIDs, cm.IntoLastID, phones)
	b.Queue(`UPDATE conversation_notes SET conversation_id = $2 WHERE conversation_id = $1 AND id = ANY($3)`, cm.Into, cm.From, cm.NoteIDs)
	b.Queue(`UPDATE conversation_activity SET conversation_id = $2 WHERE conversation_id = $1 AND id = ANY($3)`, cm.Into, cm.From, cm.ActivityIDs)
	b.Queue(`UPDATE conversations SET merged_into = CASE WHEN id = $2 THEN NULL ELSE $2 END, updated_at = now()
		WHERE id = $2 OR (id = ANY($3) AND merged_into = $1)`, cm.Into, cm.From, cm.Repointed)
	for _, c := range []int64{cm.From, cm.Into} {
		b.Queue(refreshActivity, c)
	}
	return tx.SendBatch(ctx, b).Close()
}

// refreshActivity sets a conversation's latest activity and reply phone from
// the messages it holds: replies go to the phone of its own customer that
// last wrote, else the one last written to.
const refreshActivity = `
	UPDATE conversations c SET
		last_message_at = coalesce((SELECT max(created_at) FROM messages WHERE conversation_id = c.id), c.created_at),
		last_inbound_at = (SELECT max(created_at) FROM messages WHERE conversation_id = c.id AND direction = 'inbound'),
		last_phone = coalesce((
			SELECT CASE WHEN m.direction = 'inbound' THEN m.from_number ELSE m.to_number END
			FROM messages m JOIN contact_phones p
				ON p.phone = CASE WHEN m.direction = 'inbound' THEN m.from_number ELSE m.to_number END
				AND p.contact_id = c.contact_id
			WHERE m.conversation_id = c.id
			ORDER BY m.direction = 'inbound' DESC, m.id DESC LIMIT 1), c.last_phone),
		updated_at = now()
	WHERE c.id = $1`
