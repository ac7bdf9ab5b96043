package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Agent is a user who can answer conversations, as the assign menu shows it.
type Agent struct {
	ID         int64
	Email      string
	Name       string
	Role       string
	Presence   string // online, away, offline
	PresenceAt *time.Time
}

// Agents lists the enabled users with the inbox (admins and agents) who may
// see brandID, online first.
func (s *Store) Agents(ctx context.Context, brandID int64) ([]Agent, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT u.id, u.email, u.name, u.role, u.presence, u.presence_at FROM users u
		WHERE NOT u.disabled AND u.role IN ('admin', 'agent')
		  AND (u.role = 'admin' OR u.all_brands
		       OR EXISTS (SELECT 1 FROM user_brands ub WHERE ub.user_id = u.id AND ub.brand_id = $1))
		ORDER BY CASE u.presence WHEN 'online' THEN 0 WHEN 'away' THEN 1 ELSE 2 END, u.email`, brandID)
	if err != nil {
		return nil, fmt.Errorf("store: agents of brand %d: %w", brandID, err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Agent, error) {
		var a Agent
		err := r.Scan(&a.ID, &a.Email, &a.Name, &a.Role, &a.Presence, &a.PresenceAt)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: agents of brand %d: %w", brandID, err)
	}
	return as, nil
}

// UserBrandIDs returns the brands the user is limited to — empty, not nil,
// for a user with none, who sees nothing — or nil when the user may see
// every brand (admins, and users given every brand).
func (s *Store) UserBrandIDs(ctx context.Context, userID int64) ([]int64, error) {
	var all bool
	if err := s.Pool.QueryRow(ctx, `SELECT role = 'admin' OR all_brands FROM users WHERE id = $1`, userID).Scan(&all); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return []int64{}, nil
		}
		return nil, fmt.Errorf("store: brands of user %d: %w", userID, err)
	}
	if all {
		return nil, nil
	}
	rows, err := s.Pool.Query(ctx, `SELECT brand_id FROM user_brands WHERE user_id = $1 ORDER BY brand_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: brands of user %d: %w", userID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: brands of user %d: %w", userID, err)
	}
	if ids == nil {
		ids = []int64{}
	}
	return ids, nil
}

// SetPresence records whether the user is online, away or offline.
func (s *Store) SetPresence(ctx context.Context, userID int64, presence string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE users SET presence = $2, presence_at = now() WHERE id = $1`, userID, presence)
	if err != nil {
		return fmt.Errorf("store: presence of user %d: %w", userID, err)
	}
	return nil
}

// ErrConversationMerged is returned for a change to a conversation that was
// merged into another one.
var ErrConversationMerged = errors.New("the conversation was merged into another one")

// change applies one update to a live conversation, records the activity and
// tells the consoles, in one transaction. set is the SET list, with $1 the
// conversation id and further parameters in args.
func (s *Store) change(ctx context.Context, id, actorID int64, kind, detail, set string, args ...any) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var merged bool
		err := tx.QueryRow(ctx, `UPDATE conversations SET `+set+`, updated_at = now() WHERE id = $1
			RETURNING merged_into IS NOT NULL`, append([]any{id}, args...)...).Scan(&merged)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store: %s conversation %d: %w", kind, id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: %s conversation %d: %w", kind, id, err)
		}
		if merged {
			return fmt.Errorf("store: %s conversation %d: %w", kind, id, ErrConversationMerged)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_activity (conversation_id, actor_id, kind, detail)
			VALUES ($1, nullif($2, 0), $3, $4)`, id, actorID, kind, detail); err != nil {
			return fmt.Errorf("store: %s conversation %d: activity: %w", kind, id, err)
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify('parley_conversation', $1::bigint::text)`, id)
		return err
	})
}

// RecordActivity adds what a person did to a conversation's history without
// changing it otherwise (a link to a loyalty member, which merges contacts).
func (s *Store) RecordActivity(ctx context.Context, id, actorID int64, kind, detail string) error {
	if _, err := s.Pool.Exec(ctx, `INSERT INTO conversation_activity (conversation_id, actor_id, kind, detail)
		VALUES ($1, nullif($2, 0), $3, $4)`, id, actorID, kind, detail); err != nil {
		return fmt.Errorf("store: %s conversation %d: activity: %w", kind, id, err)
	}
	return nil
}

// Assign gives the conversation to assigneeID (0: nobody). detail says it in
// words for the history ("to ana@example.com").
func (s *Store) Assign(ctx context.Context, id, assigneeID, actorID int64, detail string) error {
	return s.change(ctx, id, actorID, "assigned", detail,
		`assignee_id = nullif($2, 0)::bigint, assigned_at = CASE WHEN $2 = 0 THEN NULL ELSE now() END`, assigneeID)
}

// CloseConversation marks the conversation done: it leaves the open list and the
// waiting clock stops. A new text from the customer reopens it.
func (s *Store) CloseConversation(ctx context.Context, id, actorID int64) error {
	return s.change(ctx, id, actorID, "closed", "", `status = 'closed', waiting_since = NULL, answered_at = now(), snoozed_until = NULL, needs_attention = '',
		priority = 'normal', priority_reason = ''`)
}

// ReopenConversation puts a closed or snoozed conversation back in the open list.
func (s *Store) ReopenConversation(ctx context.Context, id, actorID int64) error {
	return s.change(ctx, id, actorID, "reopened", "", `status = 'open', snoozed_until = NULL`)
}

// SnoozeConversation hides the conversation from the open list until until, or until the
// customer writes again (receive_inbound reopens it).
func (s *Store) SnoozeConversation(ctx context.Context, id, actorID int64, until time.Time, detail string) error {
	return s.change(ctx, id, actorID, "snoozed", detail, `status = 'snoozed', snoozed_until = $2`, until)
}

// SetLabels replaces the conversation's labels.
func (s *Store) SetLabels(ctx context.Context, id, actorID int64, labels []string, detail string) error {
	if labels == nil {
		labels = []string{}
	}
	return s.change(ctx, id, actorID, "labelled", detail, `labels = $2`, labels)
}

// Note is an internal note on a conversation: agents see it, the customer
// never does.
type Note struct {
	ID          int64
	AuthorID    int64
	AuthorEmail string
	Body        string
	CreatedAt   time.Time
}

// AddNote stores a note and tells the consoles.
func (s *Store) AddNote(ctx context.Context, id, authorID int64, body string) (Note, error) {
	n := Note{AuthorID: authorID, Body: body}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO conversation_notes (conversation_id, author_id, body)
			SELECT id, $2, $3 FROM conversations WHERE id = $1 AND merged_into IS NULL RETURNING id, created_at`, id, authorID, body).
			Scan(&n.ID, &n.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `WITH u AS (UPDATE conversations SET updated_at = now() WHERE id = $1 RETURNING id AS conversation_id)`+notifyChanged, id)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: note on conversation %d: %w", id, err)
	}
	return n, nil
}

// Notes returns the conversation's notes, oldest first.
func (s *Store) Notes(ctx context.Context, id int64) ([]Note, error) {
	rows, err := s.Pool.Query(ctx, `SELECT n.id, coalesce(n.author_id, 0), coalesce(u.email, ''), n.body, n.created_at
		FROM conversation_notes n LEFT JOIN users u ON u.id = n.author_id WHERE n.conversation_id = $1 ORDER BY n.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: notes of conversation %d: %w", id, err)
	}
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Note, error) {
		var n Note
		err := r.Scan(&n.ID, &n.AuthorID, &n.AuthorEmail, &n.Body, &n.CreatedAt)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: notes of conversation %d: %w", id, err)
	}
	return ns, nil
}

// Activity is one thing a person did to a conversation.
type Activity struct {
	ID         int64
	ActorEmail string
	Kind       string
	Detail     string
	CreatedAt  time.Time
}

// ConversationActivity returns what people did to the conversation, oldest first.
func (s *Store) ConversationActivity(ctx context.Context, id int64) ([]Activity, error) {
	rows, err := s.Pool.Query(ctx, `SELECT a.id, coalesce(u.email, ''), a.kind, a.detail, a.created_at
		FROM conversation_activity a LEFT JOIN users u ON u.id = a.actor_id WHERE a.conversation_id = $1 ORDER BY a.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: activity of conversation %d: %w", id, err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Activity, error) {
		var a Activity
		err := r.Scan(&a.ID, &a.ActorEmail, &a.Kind, &a.Detail, &a.CreatedAt)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: activity of conversation %d: %w", id, err)
	}
	return as, nil
}

// MarkRead records that the user has seen the conversation up to now.
func (s *Store) MarkRead(ctx context.Context, userID, id int64) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO conversation_reads (user_id, conversation_id, read_at) VALUES ($1, $2, now())
		ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_at = now()`, userID, id)
	if err != nil {
		return fmt.Errorf("store: mark conversation %d read: %w", id, err)
	}
	return nil
}

// ThreadMessage is a message as the conversation view shows it: with who
// sent it when an agent did.
type ThreadMessage struct {
	Message
	AgentEmail string
}

// RecentMessages returns the conversation's newest limit messages, oldest
// first, and whether older ones exist.
func (s *Store) RecentMessages(ctx context.Context, id int64, limit int) ([]ThreadMessage, bool, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT x.*, coalesce(u.email, '') FROM (
			SELECT `+messageCols+` FROM messages
			WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2) x
		LEFT JOIN users u ON u.id = CASE WHEN x.origin = 'agent' AND x.origin_ref ~ '^[0-9]{1,18}$' THEN x.origin_ref::bigint END
		ORDER BY x.id`, id, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: messages of conversation %d: %w", id, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ThreadMessage, error) {
		var tm ThreadMessage
		m, err := scanMessageWith(r, &tm.AgentEmail)
		tm.Message = m
		return tm, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: messages of conversation %d: %w", id, err)
	}
	more := len(ms) > limit
	if more {
		ms = ms[1:]
	}
	return ms, more, nil
}

// ContactConversations lists the contact's other live conversations (with
// every brand in brandIDs, or all when nil).
func (s *Store) ContactConversations(ctx context.Context, contactID int64, brandIDs []int64) ([]Conversation, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+conversationCols+conversationFrom+`
		WHERE c.contact_id = $1 AND c.merged_into IS NULL AND ($2::bigint[] IS NULL OR c.brand_id = ANY($2))
		ORDER BY c.last_message_at DESC LIMIT 50`, contactID, brandIDs)
	if err != nil {
		return nil, fmt.Errorf("store: conversations of contact %d: %w", contactID, err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conversation, error) { return scanConversation(r) })
	if err != nil {
		return nil, fmt.Errorf("store: conversations of contact %d: %w", contactID, err)
	}
	return cs, nil
}
