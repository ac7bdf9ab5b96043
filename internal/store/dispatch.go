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
	Answered       bool    // a person answered it before (next-response target)
	Breached       bool    // this wait's target was already recorded as missed
	Tier           string  // the contact's tier attribute, "" for none
	Followers      float64 // the contact's followers attribute when a number, else 0
	LastAnsweredBy int64
	// ActiveDays is the customer's engagement: the days with a text from
	// them since DispatchScope.ActiveSince (read from their last
	// engagementScan messages, so a long history costs no more).
	ActiveDays int
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
	// ActiveDays are engagements the caller already knows, by conversation;
	// the others are read (assigning passes only), counting the days with a
	// text since ActiveSince, and returned in the view.
	ActiveDays  map[int64]int
	ActiveSince time.Time
}

// DispatchView is what one dispatch pass of a brand sees, under its lock.
type DispatchView struct {
	Agents   []AgentLoad
	Waiting  []WaitingConversation
	Assigned []AssignedConversation
	// ReadActiveDays are the engagements this pass read (for the caller to
	// keep: a customer's engagement changes over days, not passes).
	ReadActiveDays map[int64]int
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
		// The view's queries are planned for their actual cutoff and limit: a
		// generic plan cannot tell that the index range is tiny, and sorts
		// the whole table instead.
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
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
		emails := map[int64]string{}
		for _, a := range v.Agents {
			emails[a.ID] = a.Email
		}
		// Set-based, a statement per kind of change: the pass holds its row
		// locks for milliseconds however many conversations it changes.
		var ids, agents []int64
		var details []string
		for _, u := range d.Unassign {
			ids, agents, details = append(ids, u.ConversationID), append(agents, u.From), append(details, "automatically: "+u.Reason)
		}
		got, err := applyBatch(ctx, tx, `UPDATE conversations c SET assignee_id = NULL, assigned_at = NULL, updated_at = now()
			FROM unnest($1::bigint[], $2::bigint[], $3::text[]) v(id, agent, detail)
			WHERE c.id = v.id AND c.assignee_id = v.agent AND c.status = 'open'
			RETURNING c.id, v.detail`, "unassigned", ids, agents, details)
		if err != nil {
			return err
		}
		changed = append(changed, got...)
		ids, details = nil, nil
		for _, id := range d.Breached {
			ids, details = append(ids, id), append(details, "the response target passed without an answer")
		}
		got, err = applyBatch(ctx, tx, `UPDATE conversations c SET sla_breached_wait = c.waiting_since, updated_at = now()
			FROM unnest($1::bigint[], $2::bigint[], $3::text[]) v(id, agent, detail)
			WHERE c.id = v.id AND c.waiting_since IS NOT NULL AND c.sla_breached_wait IS DISTINCT FROM c.waiting_since
			RETURNING c.id, v.detail`, "sla_breached", ids, make([]int64, len(ids)), details)
		if err != nil {
			return err
		}
		changed = append(changed, got...)
		breached := got
		ids, agents, details = nil, nil, nil
		for _, a := range d.Assign {
			ids, agents = append(ids, a.ConversationID), append(agents, a.AgentID)
			details = append(details, fmt.Sprintf("automatically to %s: %s", emails[a.AgentID], a.Reason))
		}
		got, err = applyBatch(ctx, tx, `UPDATE conversations c SET assignee_id = v.agent, assigned_at = $4, updated_at = now()
			FROM unnest($1::bigint[], $2::bigint[], $3::text[]) v(id, agent, detail)
			WHERE c.id = v.id AND c.assignee_id IS NULL AND c.status = 'open' AND c.merged_into IS NULL
			RETURNING c.id, v.detail`, "assigned", ids, agents, details, now)
		if err != nil {
			return err
		}
		changed = append(changed, got...)
		if len(changed) > 0 {
			if _, err = tx.Exec(ctx, `SELECT pg_notify('`+ConversationChannel+`', id::text) FROM unnest($1::bigint[]) AS id`, changed); err != nil {
				return err
			}
		}
		if len(breached) > 0 {
			// After the changes, so a console hears of the breach once the
			// conversation it refreshes shows it.
			_, err = tx.Exec(ctx, `SELECT pg_notify('`+ConversationChannel+`', '`+breachPrefix+`' || id::text) FROM unnest($1::bigint[]) AS id`, breached)
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

// applyBatch runs one set-based update (returning the id and the history
// detail of each row it changed) and records each change in the history
// as kind; it returns the ids changed.
func applyBatch(ctx context.Context, tx pgx.Tx, update, kind string, ids, agents []int64, details []string, more ...any) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, update, append([]any{ids, agents, details}, more...)...)
	if err != nil {
		return nil, err
	}
	var changed []int64
	var done []string
	var id int64
	var detail string
	if _, err := pgx.ForEachRow(rows, []any{&id, &detail}, func() error {
		changed, done = append(changed, id), append(done, detail)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(changed) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_activity (conversation_id, kind, detail)
			SELECT id, $3, detail FROM unnest($1::bigint[], $2::text[]) v(id, detail)`, changed, done, kind); err != nil {
			return nil, err
		}
	}
	return changed, nil
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
	if !scope.Assigning {
		// Recording breaches alone needs neither the agents, nor who is
		// assigned, nor who answered last: one range of the partial index
		// conversations_unbreached.
		rows, err = tx.Query(ctx, `SELECT c.id, c.waiting_since, c.answered_at IS NOT NULL FROM conversations c
			WHERE c.brand_id = $1 AND c.status = 'open' AND c.merged_into IS NULL AND c.waiting_since IS NOT NULL
			  AND `+unbreached+` AND `+waitingBefore+`
			ORDER BY `+inboxKey+`, c.id LIMIT $2`, brandID, scope.Limit, scope.OlderThan)
		if err != nil {
			return v, err
		}
		v.Waiting, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (WaitingConversation, error) {
			var w WaitingConversation
			return w, r.Scan(&w.ID, &w.WaitingSince, &w.Answered)
		})
		return v, err
	}
	// Recording breaches alone needs neither the whole queue nor who
	// answered last.
	older, only, lastAgent := scope.OlderThan, " AND c.waiting_since IS NOT NULL AND "+unbreached, "''"
	if scope.Assigning {
		older, only = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), "" // every wait
		lastAgent = `coalesce((SELECT m.origin_ref FROM messages m WHERE m.conversation_id = c.id
			AND m.origin = 'agent' ORDER BY m.id DESC LIMIT 1), '')`
	}
	rows, err = tx.Query(ctx, `
		SELECT c.id, c.waiting_since, c.answered_at IS NOT NULL, c.sla_breached_wait IS NOT DISTINCT FROM c.waiting_since,
			coalesce(ct.attributes ->> 'tier', ''),
			CASE WHEN jsonb_typeof(ct.attributes -> 'followers') = 'number' THEN (ct.attributes ->> 'followers')::float8 ELSE 0 END,
			`+lastAgent+`
		FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
		WHERE c.brand_id = $1 AND c.status = 'open' AND c.merged_into IS NULL AND c.assignee_id IS NULL
		  AND `+waitingBefore+only+`
		ORDER BY `+inboxKey+`, c.id LIMIT $2`, brandID, scope.Limit, older)
	if err != nil {
		return v, err
	}
	if v.Waiting, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (WaitingConversation, error) {
		var w WaitingConversation
		var by string
		err := r.Scan(&w.ID, &w.WaitingSince, &w.Answered, &w.Breached, &w.Tier, &w.Followers, &by)
		_, _ = fmt.Sscan(by, &w.LastAnsweredBy)
		return w, err
	}); err != nil {
		return v, err
	}
	if err := readActiveDays(ctx, tx, &v, scope); err != nil {
		return v, err
	}
	rows, err = tx.Query(ctx, `
		SELECT c.id, c.assignee_id, u.presence = 'online', c.waiting_since, coalesce(c.assigned_at, c.waiting_since),
			c.answered_at IS NOT NULL, c.sla_breached_wait IS NOT DISTINCT FROM c.waiting_since
		FROM conversations c JOIN users u ON u.id = c.assignee_id
		WHERE c.brand_id = $1 AND c.status = 'open' AND c.merged_into IS NULL AND c.waiting_since IS NOT NULL
		  AND `+waitingBefore+only+`
		ORDER BY `+inboxKey+`, c.id LIMIT $2`, brandID, scope.Limit, older)
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

// engagementScan bounds the messages read for a customer's engagement.
const engagementScan = 200

// readActiveDays fills the waiting conversations' engagement from the known,
// and reads the rest in one statement: per conversation, one backward range
// of messages_conversation of at most engagementScan rows.
func readActiveDays(ctx context.Context, tx pgx.Tx, v *DispatchView, scope DispatchScope) error {
	var missing []int64
	for i, w := range v.Waiting {
		if n, ok := scope.ActiveDays[w.ID]; ok {
			v.Waiting[i].ActiveDays = n
		} else {
			missing = append(missing, w.ID)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `
		SELECT v.id, (SELECT count(DISTINCT date_trunc('day', m.created_at, 'UTC'))
			FROM (SELECT direction, created_at FROM messages WHERE conversation_id = v.id ORDER BY id DESC LIMIT $3) m
			WHERE m.direction = 'inbound' AND m.created_at >= $2)
		FROM unnest($1::bigint[]) v(id)`, missing, scope.ActiveSince, engagementScan)
	if err != nil {
		return err
	}
	v.ReadActiveDays = map[int64]int{}
	var id int64
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		v.ReadActiveDays[id] = n
		return nil
	}); err != nil {
		return err
	}
	for i, w := range v.Waiting {
		if n, ok := v.ReadActiveDays[w.ID]; ok {
			v.Waiting[i].ActiveDays = n
		}
	}
	return nil
}
