package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Contact is a person: one or more phones, at most one loyalty ID, and what
// the brand knows about them.
type Contact struct {
	ID         int64
	LoyaltyID  string   // "" when none
	Phones     []string // sorted
	Name       string
	Attributes map[string]any
	Timezone   string
	// MergedInto is the contact that absorbed this one, 0 while it is live.
	// Absorbed contacts keep their row so that old references still resolve.
	MergedInto int64
	CreatedAt  time.Time
}

// Why a contact_merges row was written.
const (
	// MergeLoyaltyLinked: an upsert with a loyalty ID listed a phone of a
	// contact without one, so both are the loyalty member.
	MergeLoyaltyLinked = "loyalty_id_linked"
	// MergePhonesLinked: an upsert without a loyalty ID listed phones of two
	// contacts, so they are one person.
	MergePhonesLinked = "phones_linked"
	// PhoneReassigned: a phone moved from one loyalty member to another (a
	// recycled number). Nothing was absorbed: absorbed_id is the contact that
	// lost the phone and keeps its history.
	PhoneReassigned = "phone_reassigned"
)

// ErrNoPhones is returned when consent is given for a contact that has no
// phone to record it against.
var ErrNoPhones = errors.New("the contact has no phone")

// ContactUpsert is a validated identity upsert; internal/contact owns the
// rules and the validation, this is what the store applies.
type ContactUpsert struct {
	LoyaltyID string   // "" for none
	Phones    []string // normalised and distinct, in the caller's order: the first known one picks the contact
	Name      string   // "" keeps the stored name
	Timezone  string   // "" keeps the stored time zone
	// SetAttributes are written over the stored attributes; DropAttributes are removed.
	SetAttributes  map[string]any
	DropAttributes []string
	// Consent is recorded for every phone in Phones, or every phone of the
	// contact when Phones is empty.
	Consent []ConsentChange
	// MadeBy is the console user whose action this is (0 for the API, an
	// import or an inbound text); merges it causes can be undone by an admin.
	MadeBy int64
}

// ConsentChange is a consent entry whose phones the upsert decides.
type ConsentChange struct {
	BrandID  int64
	Purpose  string
	Status   string
	Source   string
	Evidence string
}

// UpsertResult says what an upsert did, for the response and the logs.
type UpsertResult struct {
	Contact    Contact
	Created    bool
	Absorbed   []int64  // contacts merged into Contact
	Reassigned []string // phones taken from a contact with another loyalty ID
	// Consent are the ledger entries the upsert wrote.
	Consent []ConsentEvent
}

// MergeDetail is the detail column of a contact_merges row: enough to see
// afterwards what moved where.
type MergeDetail struct {
	PhonesMoved         []string            `json:"phones_moved,omitempty"`
	ConversationsMoved  []int64             `json:"conversations_moved,omitempty"`
	ConversationsMerged []ConversationMerge `json:"conversations_merged,omitempty"`
	// What undoing the merge puts back: contacts merged into the absorbed one
	// earlier (they pointed at it, now at the survivor), and what the
	// survivor took from it because it had none.
	ContactsRepointed []int64  `json:"contacts_repointed,omitempty"`
	AttributesTaken   []string `json:"attributes_taken,omitempty"`
	NameTaken         bool     `json:"name_taken,omitempty"`
	TimezoneTaken     bool     `json:"timezone_taken,omitempty"`
	LoyaltyIDTaken    bool     `json:"loyalty_id_taken,omitempty"`
	// LastMessageID is the newest message id when the merge was made:
	// texts after it in a moved conversation came after the merge.
	LastMessageID int64 `json:"last_message_id,omitempty"`
	// For PhoneReassigned: the phone, the old owner's conversations that now
	// answer to another of its phones, and those left with no phone to answer to.
	Phone                  string  `json:"phone,omitempty"`
	RepliesNowTo           string  `json:"replies_now_to,omitempty"`
	ConversationsRepointed []int64 `json:"conversations_repointed,omitempty"`
	ConversationsFlagged   []int64 `json:"conversations_flagged,omitempty"`
}

// ConversationMerge records that one brand's conversation of the absorbed
// contact was folded into the survivor's.
type ConversationMerge struct {
	From          int64 `json:"from"`
	Into          int64 `json:"into"`
	BrandID       int64 `json:"brand_id"`
	MessagesMoved int64 `json:"messages_moved"`
	// What undoing the fold moves back: the messages, notes and activity
	// moved, conversations that had been folded into From earlier, and the
	// newest message id of Into right after the fold (later texts to or from
	// a phone that goes back follow it).
	MessageIDs  []int64 `json:"message_ids,omitempty"`
	NoteIDs     []int64 `json:"note_ids,omitempty"`
	ActivityIDs []int64 `json:"activity_ids,omitempty"`
	Repointed   []int64 `json:"repointed,omitempty"`
	IntoLastID  int64   `json:"into_last_id,omitempty"`
}

// ContactMerge is one row of the merge history.
type ContactMerge struct {
	ID         int64
	SurvivorID int64
	AbsorbedID int64
	Reason     string
	Detail     MergeDetail
	CreatedAt  time.Time
	// ByPerson: made in the console by MadeBy (0 once that user is deleted);
	// such a merge can be undone within MergeUndoWindow.
	ByPerson bool
	MadeBy   int64
	UndoneAt *time.Time
	UndoneBy int64
}

const contactCols = `c.id, coalesce(c.loyalty_id, ''), c.name, c.attributes, c.timezone, coalesce(c.merged_into, 0), c.created_at,
	array(SELECT p.phone FROM contact_phones p WHERE p.contact_id = c.id ORDER BY p.phone)`

func scanContact(row pgx.Row) (Contact, error) {
	var c Contact
	var attrs []byte
	if err := row.Scan(&c.ID, &c.LoyaltyID, &c.Name, &attrs, &c.Timezone, &c.MergedInto, &c.CreatedAt, &c.Phones); err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(attrs))
	dec.UseNumber() // a loyalty number or points balance must come back digit for digit
	if err := dec.Decode(&c.Attributes); err != nil {
		return c, fmt.Errorf("attributes: %w", err)
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	if c.Phones == nil {
		c.Phones = []string{}
	}
	return c, nil
}

// ContactByID returns the contact, merged or not, or ErrNotFound.
func (s *Store) ContactByID(ctx context.Context, id int64) (Contact, error) {
	c, err := scanContact(s.Pool.QueryRow(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("store: contact %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: contact %d: %w", id, err)
	}
	return c, nil
}

// ContactQuery selects live contacts; every non-empty field must match.
type ContactQuery struct {
	Phone     string
	LoyaltyID string
}

// Contacts lists the live (not merged) contacts matching q, by id. At least
// one field of q must be set: the contact list is never dumped whole.
func (s *Store) Contacts(ctx context.Context, q ContactQuery) ([]Contact, error) {
	if q.Phone == "" && q.LoyaltyID == "" {
		return nil, errors.New("store: contacts: a phone or a loyalty ID is needed")
	}
	where, args := []string{"c.merged_into IS NULL"}, []any{}
	if q.Phone != "" {
		args = append(args, q.Phone)
		where = append(where, fmt.Sprintf("c.id IN (SELECT contact_id FROM contact_phones WHERE phone = $%d)", len(args)))
	}
	if q.LoyaltyID != "" {
		args = append(args, q.LoyaltyID)
		where = append(where, fmt.Sprintf("c.loyalty_id = $%d", len(args)))
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+contactCols+` FROM contacts c WHERE `+strings.Join(where, " AND ")+` ORDER BY c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: contacts: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) { return scanContact(r) })
	if err != nil {
		return nil, fmt.Errorf("store: contacts: %w", err)
	}
	return cs, nil
}

// ContactMerges lists the merge history a contact took part in, survivor or
// absorbed, oldest first.
func (s *Store) ContactMerges(ctx context.Context, contactID int64) ([]ContactMerge, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, survivor_id, absorbed_id, reason, detail, created_at,
			by_person, coalesce(made_by, 0), undone_at, coalesce(undone_by, 0)
		FROM contact_merges WHERE survivor_id = $1 OR absorbed_id = $1 ORDER BY id`, contactID)
	if err != nil {
		return nil, fmt.Errorf("store: merges of contact %d: %w", contactID, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ContactMerge, error) {
		var m ContactMerge
		var detail []byte
		if err := r.Scan(&m.ID, &m.SurvivorID, &m.AbsorbedID, &m.Reason, &detail, &m.CreatedAt,
			&m.ByPerson, &m.MadeBy, &m.UndoneAt, &m.UndoneBy); err != nil {
			return m, err
		}
		return m, json.Unmarshal(detail, &m.Detail)
	})
	if err != nil {
		return nil, fmt.Errorf("store: merges of contact %d: %w", contactID, err)
	}
	return ms, nil
}

// maxRelock bounds how often an upsert starts over because the contacts it
// touches gained phones it had not locked.
const maxRelock = 5

// errRelock asks UpsertContact to start over with more advisory locks.
var errRelock = errors.New("store: more phones to lock")
