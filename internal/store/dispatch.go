package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AgentLoad is a person who can take a brand's conversations, with their
// load now.
type AgentLoad struct {
	ID           int64
	Email        string
	Online       bool
	Capacity     int
	Open         int
	LastAssigned time.Time
}

// WaitingConversation is an open, unassigned conversation whose customer
// waits for a person.
type WaitingConversation struct {
	ID             int64
	WaitingSince   time.Time
	Answered       bool   // a person answered it before (next-response target)
	Breached       bool   // this wait's target was already recorded as missed
	Tier           string // the contact's tier attribute, "" for none
	LastAnsweredBy int64
}

// AssignedConversation is an open conversation with an assignee whose
// customer waits for an answer.
type AssignedConversation struct {
	ID, AssigneeID int64
	AgentOnline    bool
	WaitingSince   time.Time
	AssignedAt     time.Time
	Answered       bool
	Breached       bool
}

// DispatchScope says what a pass reads. A brand that assigns by hand needs
// only the waits old enough to have missed a target: no agents, and no
// conversation younger than the shortest target.
type DispatchScope struct {
	Assigning bool      // read the agents and every waiting conversation
	OlderThan time.Time // otherwise: only waits that began before this
	Limit     int       // at most this many waiting conversations, and as many assigned ones
}

// DispatchView is what one dispatch pass of a brand sees, under its lock.
type DispatchView struct {
	Agents   []AgentLoad
	Waiting  []WaitingConversation
	Assigned []AssignedConversation
}

// Reassignment takes a conversation from its assignee.
type Reassignment struct {
	ConversationID, From int64
	Reason               string
}

// Dispatch is what a pass decided: first the reassignments, then the
// assignments (which may give back what was just taken, to someone else).
type Dispatch struct {
	Unassign []Reassignment
	Assign   []AutoAssignment
	// Breached are waits whose response target has just passed: each is
	// recorded once, in the history, and announced to the consoles.
	Breached []int64
}

// AutoAssignment gives a waiting conversation to an agent.
type AutoAssignment struct {
	ConversationID, AgentID int64
	Reason                  string
}

// DispatchBrand runs one assignment pass for a brand in one transaction:
// it loads the view, asks decide what to do, and applies it; every change
// is recorded in the conversation's activity with its reason. Only one pass
// of a brand runs at a time across processes (a transaction advisory lock;
// a pass that finds it taken does nothing and reports false). scope says
// what to read.
func (s *Store) DispatchBrand(ctx context.Context, brandID int64, now time.Time, scope DispatchScope,
	decide func(DispatchView) Dispatch) (ran bool, changed []int64, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended('dispatch:' || $1::bigint::text, 7))`, brandID).Scan(&ran); err != nil || !ran {
			return err
		}
		v, err := dispatchView(ctx, tx, brandID, scope)
		if err != nil {
			return err
		}
		d := decide(v)
		// Lock what the pass will change, in id order, skipping rows an
		// inbound batch holds: the pass never waits on a text's transaction,
		// so it cannot deadlock with one; what it skipped, the next pass does.
		locked, err := lockForDispatch(ctx, tx, d)
		if err != nil {
			return err
		}
		d = d.only(locked)
		for _, u := range d.Unassign {
			tag, err := tx.Exec(ctx, `UPDATE conversations SET assignee_id = NULL, assigned_at = NULL, updated_at = now()
				WHERE id = $1 AND assignee_id = $2 AND status = 'open'`, u.ConversationID, u.From)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				if err := activity(ctx, tx, u.ConversationID, "unassigned", "automatically: "+u.Reason); err != nil {
					return err
				}
				changed = append(changed, u.ConversationID)
			}
		}
		for _, id := range d.Breached {
			tag, err := tx.Exec(ctx, `UPDATE conversations SET sla_breached_wait = waiting_since, updated_at = now()
				WHERE id = $1 AND waiting_since IS NOT NULL AND sla_breached_wait IS DISTINCT FROM waiting_since`, id)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				if err := activity(ctx, tx, id, "sla_breached", "the response target passed without an answer"); err != nil {
					return err
				}
				changed = append(changed, id)
			}
		}
		emails := map[int64]string{}
		for _, a := range v.Agents {
			emails[a.ID] = a.Email
		}
		for _, a := range d.Assign {
			tag, err := tx.Exec(ctx, `UPDATE conversations SET assignee_id = $2, assigned_at = $3, updated_at = now()
				WHERE id = $1 AND assignee_id IS NULL AND status = 'open' AND merged_into IS NULL`, a.ConversationID, a.AgentID, now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				if err := activity(ctx, tx, a.ConversationID, "assigned", fmt.Sprintf("automatically to %s: %s", emails[a.AgentID], a.Reason)); err != nil {
					return err
				}
				changed = append(changed, a.ConversationID)
			}
		}
		if len(changed) > 0 {
			_, err = tx.Exec(ctx, `SELECT pg_notify('`+ConversationChannel+`', id::text) FROM unnest($1::bigint[]) AS id`, changed)
		}
		return err
	})
	if err != nil {
		return false, nil, fmt.Errorf("store: dispatch brand %d: %w", brandID, err)
	}
	return ran, changed, nil
}

func lockForDispatch(ctx context.Context, tx pgx.Tx, d Dispatch) (map[int64]bool, error) {
	var ids []int64
	for _, u := range d.Unassign {
		ids = append(ids, u.ConversationID)
	}
	for _, a := range d.Assign {
		ids = append(ids, a.ConversationID)
	}
	ids = append(ids, d.Breached...)
	locked := map[int64]bool{}
	if len(ids) == 0 {
		return locked, nil
	}
	rows, err := tx.Query(ctx, `SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED`, ids)
	if err != nil {
		return nil, err
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	for _, id := range got {
		locked[id] = true
	}
	return locked, err
}

// only keeps the changes to conversations in locked.
func (d Dispatch) only(locked map[int64]bool) Dispatch {
	var out Dispatch
	for _, u := range d.Unassign {
		if locked[u.ConversationID] {
			out.Unassign = append(out.Unassign, u)
		}
	}
	for _, a := range d.Assign {
		if locked[a.ConversationID] {
			out.Assign = append(out.Assign, a)
		}
	}
	for _, id := range d.Breached {
		if locked[id] {
			out.Breached = append(out.Breached, id)
		}
	}
	return out
}

func activity(ctx context.Context, tx pgx.Tx, id int64, kind, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO conversation_activity (conversation_id, kind, detail) VALUES ($1, $2, $3)`, id, kind, detail)
	return err
}

// waitingBefore selects the waits that began before $3 as a range of the
// inbox index (migration 00005): a waiting conversation's key is the epoch
// of its waiting_since, and every other key is above 10^11 - now's epoch,
// far above any wait's. A pass thus reads only the rows it wants, however
// many conversations there are.
const waitingBefore = inboxKey + ` < least(extract(epoch FROM $3::timestamptz), 50000000000)`

// unbreached is a wait whose missed target is not recorded yet (the
// partial index conversations_unbreached serves it); a pass that only
// records breaches reads nothing else.
const unbreached = `c.sla_breached_wait IS DISTINCT FROM c.waiting_since`

func dispatchView(ctx context.Context, tx pgx.Tx, brandID int64, scope DispatchScope) (DispatchView, error) {
	var v DispatchView
	var rows pgx.Rows
	var err error
	if scope.Assigning {
		// Loads come from the open conversations alone (the partial index
		// conversations_assignee_open), in one scan for every agent.
		rows, err = tx.Query(ctx, `
			WITH load AS (SELECT assignee_id, count(*) AS open, max(assigned_at) AS last FROM conversations
				WHERE status = 'open' AND merged_into IS NULL AND assignee_id IS NOT NULL GROUP BY assignee_id)
			SELECT u.id, u.email, u.presence = 'online', u.capacity, coalesce(l.open, 0), coalesce(l.last, 'epoch')
			FROM users u LEFT JOIN load l ON l.assignee_id = u.id
			WHERE NOT u.disabled AND u.role IN ('admin', 'agent')
			  AND (u.role = 'admin' OR u.all_brands OR EXISTS (SELECT 1 FROM user_brands ub WHERE ub.user_id = u.id AND ub.brand_id = $1))
			ORDER BY u.id`, brandID)
		if err != nil {
			return v, err
		}
		if v.Agents, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (AgentLoad, error) {
			var a AgentLoad
			err := r.Scan(&a.ID, &a.Email, &a.Online, &a.Capacity, &a.Open, &a.LastAssigned)
			return a, err
		}); err != nil {
			return v, err
		}
	}
	older, only := scope.OlderThan, " AND "+unbreached
	if scope.Assigning {
		older, only = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), "" // every wait
	}
	rows, err = tx.Query(ctx, `
		SELECT c.id, c.waiting_since, c.answered_at IS NOT NULL, c.sla_breached_wait IS NOT DISTINCT FROM c.waiting_since,
			coalesce(ct.attributes ->> 'tier', ''),
			coalesce((SELECT m.origin_ref FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'outbound'
				AND m.origin = 'agent' ORDER BY m.id DESC LIMIT 1), '')
		FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
		WHERE c.brand_id = $1 AND c.status = 'open' AND c.merged_into IS NULL AND c.assignee_id IS NULL
		  AND `+waitingBefore+only+`
		ORDER BY `+inboxKey+` LIMIT $2`, brandID, scope.Limit, older)
	if err != nil {
		return v, err
	}
	if v.Waiting, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (WaitingConversation, error) {
		var w WaitingConversation
		var by string
		err := r.Scan(&w.ID, &w.WaitingSince, &w.Answered, &w.Breached, &w.Tier, &by)
		_, _ = fmt.Sscan(by, &w.LastAnsweredBy)
		return w, err
	}); err != nil {
		return v, err
	}
	rows, err = tx.Query(ctx, `
		SELECT c.id, c.assignee_id, u.presence = 'online', c.waiting_since, coalesce(c.assigned_at, c.waiting_since),
			c.answered_at IS NOT NULL, c.sla_breached_wait IS NOT DISTINCT FROM c.waiting_since
		FROM conversations c JOIN users u ON u.id = c.assignee_id
		WHERE c.brand_id = $1 AND c.status = 'open' AND c.merged_into IS NULL AND c.waiting_since IS NOT NULL
		  AND `+waitingBefore+only+`
		ORDER BY `+inboxKey+` LIMIT $2`, brandID, scope.Limit, older)
	if err != nil {
		return v, err
	}
	v.Assigned, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (AssignedConversation, error) {
		var a AssignedConversation
		err := r.Scan(&a.ID, &a.AssigneeID, &a.AgentOnline, &a.WaitingSince, &a.AssignedAt, &a.Answered, &a.Breached)
		return a, err
	})
	return v, err
}

// AutoClose closes a brand's open conversations whose customer last wrote
// before quietSince and who waits for nobody (snoozed ones are left alone:
// they are not open); each is recorded in its history.
func (s *Store) AutoClose(ctx context.Context, brandID int64, quietSince time.Time) ([]int64, error) {
	var ids []int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// SKIP LOCKED: never wait on (or deadlock with) an inbound batch that
		// holds one of these rows; a text arriving now keeps it open anyway.
		rows, err := tx.Query(ctx, `
			WITH quiet AS (SELECT id FROM conversations
				WHERE brand_id = $1 AND status = 'open' AND merged_into IS NULL AND waiting_since IS NULL
				  AND coalesce(last_inbound_at, created_at) < $2
				ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED)
			UPDATE conversations c SET status = 'closed', updated_at = now()
			FROM quiet WHERE c.id = quiet.id
			RETURNING c.id`, brandID, quietSince)
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil || len(ids) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_activity (conversation_id, kind, detail)
			SELECT id, 'closed', 'automatically: no text from the customer for the quiet period' FROM unnest($1::bigint[]) id`, ids); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify('`+ConversationChannel+`', id::text) FROM unnest($1::bigint[]) AS id`, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: auto-close brand %d: %w", brandID, err)
	}
	return ids, nil
}
