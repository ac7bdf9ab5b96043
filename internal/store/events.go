package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// EventWho names the person an event is about, as the brand did: one of
// the three is set (the phone already in E.164).
type EventWho struct {
	ContactID int64
	LoyaltyID string
	Phone     string
}

// EventPerson is what a rule's conditions and schedule see of the person:
// ContactID 0 when nobody matched.
type EventPerson struct {
	ContactID  int64
	Name       string
	LoyaltyID  string
	Phone      string // their newest phone, for the time zone ("" none)
	Timezone   string
	Attributes map[string]any
}

// EventPeople finds the people events name, in order, in one statement. A
// contact id of a merged contact finds the contact it was merged into.
func (s *Store) EventPeople(ctx context.Context, who []EventWho) ([]EventPerson, error) {
	ids := make([]int64, len(who))
	loyalty := make([]string, len(who))
	phones := make([]string, len(who))
	for i, w := range who {
		ids[i], loyalty[i], phones[i] = w.ContactID, w.LoyaltyID, w.Phone
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT w.n, coalesce(ct.id, 0), coalesce(ct.name, ''), coalesce(ct.loyalty_id, ''), coalesce(ph.phone, ''),
			coalesce(ct.timezone, ''), coalesce(ct.attributes, '{}'::jsonb)
		FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS w(cid, lid, phone, n)
		LEFT JOIN LATERAL (SELECT coalesce(
			(SELECT coalesce(c.merged_into, c.id) FROM contacts c WHERE w.cid > 0 AND c.id = w.cid),
			(SELECT c.id FROM contacts c WHERE w.lid <> '' AND c.loyalty_id = w.lid AND c.merged_into IS NULL LIMIT 1),
			(SELECT p.contact_id FROM contact_phones p WHERE w.phone <> '' AND p.phone = w.phone)) AS id) f ON true
		LEFT JOIN contacts ct ON ct.id = f.id
		LEFT JOIN LATERAL (SELECT p.phone FROM contact_phones p WHERE p.contact_id = ct.id ORDER BY p.created_at DESC, p.phone LIMIT 1) ph ON true
		ORDER BY w.n`, ids, loyalty, phones)
	if err != nil {
		return nil, fmt.Errorf("store: event people: %w", err)
	}
	out := make([]EventPerson, len(who))
	var n int64
	var p EventPerson
	var attrs []byte
	_, err = pgx.ForEachRow(rows, []any{&n, &p.ContactID, &p.Name, &p.LoyaltyID, &p.Phone, &p.Timezone, &attrs}, func() error {
		p.Attributes = nil
		if err := json.Unmarshal(attrs, &p.Attributes); err != nil {
			return err
		}
		out[n-1] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: event people: %w", err)
	}
	return out, nil
}

// NewEvent is an event to store, with the runs its matching rules planned.
type NewEvent struct {
	Type       string
	ContactID  int64
	OccurredAt time.Time
	Data       json.RawMessage
	Key        string // idempotency key ("" none)
	Runs       []NewRun
}

// NewRun is one text a rule plans for an event: scheduled, or already
// dropped (it arrived too late) with the reason.
type NewRun struct {
	TriggerID      int64
	DueAt, Expires time.Time
	State          string // scheduled or dropped
	Reason, Detail string
}

// StoredEvent is an event's id and how many rules it matched; Duplicate
// when its idempotency key was already used (the first event's figures).
type StoredEvent struct {
	ID        int64
	Matched   int
	Duplicate bool
}

// InsertEvents stores events of one brand with their runs in one
// transaction. An event whose key the brand already used is not stored
// again and plans nothing: its answer is the stored event's. Keys must be
// distinct within evs.
func (s *Store) InsertEvents(ctx context.Context, brandID int64, evs []NewEvent) ([]StoredEvent, error) {
	out := make([]StoredEvent, len(evs))
	if len(evs) == 0 {
		return out, nil
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT nextval('events_id_seq') FROM generate_series(1, $1)`, len(evs))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		types := make([]string, len(evs))
		contacts := make([]int64, len(evs))
		at := make([]time.Time, len(evs))
		data := make([]string, len(evs))
		keys := make([]*string, len(evs))
		matched := make([]int64, len(evs))
		for i, e := range evs {
			types[i], contacts[i], at[i], matched[i] = e.Type, e.ContactID, e.OccurredAt, int64(len(e.Runs))
			data[i] = string(e.Data)
			if len(e.Data) == 0 {
				data[i] = "{}"
			}
			if e.Key != "" {
				keys[i] = &evs[i].Key
			}
		}
		rows, err = tx.Query(ctx, `
			INSERT INTO events (id, brand_id, type, contact_id, occurred_at, data, idempotency_key, matched)
			SELECT u.id, $1, u.type, u.contact_id, u.at, u.data::jsonb, u.key, u.matched
			FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::timestamptz[], $6::text[], $7::text[], $8::bigint[])
				AS u(id, type, contact_id, at, data, key, matched)
			ON CONFLICT (brand_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			RETURNING id`, brandID, ids, types, contacts, at, data, keys, matched)
		if err != nil {
			return err
		}
		stored, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		slices.Sort(stored)
		var dupKeys []string
		var runTrigger, runContact, runEvent []int64
		var runDue, runExpires []time.Time
		var runState, runReason, runDetail []string
		for i, e := range evs {
			if _, ok := slices.BinarySearch(stored, ids[i]); !ok {
				out[i].Duplicate = true
				dupKeys = append(dupKeys, e.Key)
				continue
			}
			out[i] = StoredEvent{ID: ids[i], Matched: len(e.Runs)}
			for _, r := range e.Runs {
				runTrigger, runContact, runEvent = append(runTrigger, r.TriggerID), append(runContact, e.ContactID), append(runEvent, ids[i])
				runDue, runExpires = append(runDue, r.DueAt), append(runExpires, r.Expires)
				runState, runReason, runDetail = append(runState, r.State), append(runReason, r.Reason), append(runDetail, r.Detail)
			}
		}
		if len(dupKeys) > 0 {
			rows, err := tx.Query(ctx, `SELECT idempotency_key, id, matched FROM events WHERE brand_id = $1 AND idempotency_key = ANY($2)`,
				brandID, dupKeys)
			if err != nil {
				return err
			}
			found := map[string]StoredEvent{}
			var key string
			var se StoredEvent
			if _, err := pgx.ForEachRow(rows, []any{&key, &se.ID, &se.Matched}, func() error {
				se.Duplicate = true
				found[key] = se
				return nil
			}); err != nil {
				return err
			}
			for i, e := range evs {
				if out[i].Duplicate {
					out[i] = found[e.Key]
					out[i].Duplicate = true
				}
			}
		}
		if len(runTrigger) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO trigger_runs (trigger_id, brand_id, contact_id, event_id, due_at, expires_at, state, reason, detail, done_at)
			SELECT u.trigger_id, $1, u.contact_id, u.event_id, u.due, u.expires, u.state, u.reason, u.detail,
				CASE WHEN u.state = 'scheduled' THEN NULL ELSE now() END
			FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[], $9::text[])
				AS u(trigger_id, contact_id, event_id, due, expires, state, reason, detail)
			ON CONFLICT DO NOTHING`,
			brandID, runTrigger, runContact, runEvent, runDue, runExpires, runState, runReason, runDetail)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	return out, nil
}

// DueRun is a run due now with everything the decision needs.
type DueRun struct {
	RunID, TriggerID, BrandID, ContactID, EventID int64
	DueAt, ExpiresAt, OccurredAt                  time.Time
	EventType                                     string
	EventData                                     map[string]any
	Name, LoyaltyID, Timezone                     string
	Attributes                                    map[string]any
	Phone                                         string // where the text would go ("" none)
	From                                          string // the brand number it would go from ("" none)
	Marketing, Conversational                     string // the phone's newest consent states for the brand
	Undeliverable                                 bool
	LastSent                                      *time.Time // this rule's last text to the person
	OpenQuestion                                  bool       // another rule's question waits for their answer
	BrandSlug, BrandName, BrandTimezone           string
	QuietStart, QuietEnd                          int
}

// RunOutcome is what the decision made of a due run.
type RunOutcome struct {
	RunID          int64
	State          string // sent, skipped or dropped
	Reason, Detail string
	// For a text: what it says and how it goes.
	Body, Purpose, Queue string
	Segments             int
	Encoding             string
	QuestionID           int64
	QuestionWindow       time.Duration
}

// Fired is a text a run stored, for its send task.
type Fired struct {
	MessageID int64
	From      string
	Queue     string
}

// dueRunSelect reads DueRuns for the rows of the CTE "runs" (id,
// trigger_id, brand_id, contact_id, event_id, due_at, expires_at,
// created_at).
const dueRunSelect = `
	SELECT r.id, r.trigger_id, r.brand_id, ct.id, coalesce(r.event_id, 0), r.due_at, r.expires_at, coalesce(e.occurred_at, r.created_at),
		coalesce(e.type, ''), coalesce(e.data, '{}'::jsonb), ct.name, coalesce(ct.loyalty_id, ''), ct.timezone, ct.attributes,
		coalesce(ph.phone, ''), coalesce(snd.number, ''), coalesce(mk.status, ''), coalesce(cs.status, ''), coalesce(ph.undeliverable, false),
		(SELECT max(x.done_at) FROM trigger_runs x WHERE x.trigger_id = r.trigger_id AND x.contact_id = ct.id AND x.state = 'sent'),
		EXISTS (SELECT 1 FROM question_asks qa WHERE qa.contact_id = ct.id AND qa.state = 'open' AND qa.expires_at > now()
			AND qa.trigger_id IS DISTINCT FROM r.trigger_id),
		b.slug, b.name, b.timezone, b.quiet_start, b.quiet_end
	FROM runs r
	JOIN brands b ON b.id = r.brand_id
	JOIN contacts c0 ON c0.id = r.contact_id
	JOIN contacts ct ON ct.id = coalesce(c0.merged_into, c0.id)
	LEFT JOIN events e ON e.id = r.event_id
	LEFT JOIN conversations cv ON cv.brand_id = r.brand_id AND cv.contact_id = ct.id AND cv.merged_into IS NULL
	LEFT JOIN LATERAL (SELECT p.phone, p.undeliverable FROM contact_phones p WHERE p.contact_id = ct.id
		ORDER BY (p.phone = cv.last_phone) DESC NULLS LAST, p.created_at DESC, p.phone LIMIT 1) ph ON true
	LEFT JOIN LATERAL (SELECT ce.status FROM consent_events ce WHERE ce.brand_id = r.brand_id AND ce.phone = ph.phone
		AND ce.purpose = 'marketing' ORDER BY ce.id DESC LIMIT 1) mk ON true
	LEFT JOIN LATERAL (SELECT ce.status FROM consent_events ce WHERE ce.brand_id = r.brand_id AND ce.phone = ph.phone
		AND ce.purpose = 'conversational' ORDER BY ce.id DESC LIMIT 1) cs ON true
	LEFT JOIN LATERAL (SELECT coalesce(
		(SELECT m.to_number FROM messages m JOIN brand_numbers n ON n.number = m.to_number AND n.brand_id = r.brand_id
		  WHERE m.conversation_id = cv.id AND m.direction = 'inbound' ORDER BY m.id DESC LIMIT 1),
		(SELECT number FROM brand_numbers WHERE brand_id = r.brand_id ORDER BY created_at, number LIMIT 1)) AS number) snd ON true
	ORDER BY r.due_at, r.id`

func scanDueRuns(rows pgx.Rows) ([]DueRun, error) {
	var out []DueRun
	var d DueRun
	var data, attrs []byte
	_, err := pgx.ForEachRow(rows, []any{&d.RunID, &d.TriggerID, &d.BrandID, &d.ContactID, &d.EventID, &d.DueAt, &d.ExpiresAt, &d.OccurredAt,
		&d.EventType, &data, &d.Name, &d.LoyaltyID, &d.Timezone, &attrs, &d.Phone, &d.From, &d.Marketing, &d.Conversational,
		&d.Undeliverable, &d.LastSent, &d.OpenQuestion, &d.BrandSlug, &d.BrandName, &d.BrandTimezone, &d.QuietStart, &d.QuietEnd},
		func() error {
			x := d
			x.EventData, x.Attributes = nil, nil
			if err := json.Unmarshal(data, &x.EventData); err != nil {
				return err
			}
			if err := json.Unmarshal(attrs, &x.Attributes); err != nil {
				return err
			}
			if x.LastSent != nil {
				t := *x.LastSent
				x.LastSent = &t
			}
			out = append(out, x)
			return nil
		})
	return out, err
}

// PreviewRun reads what a run of the rule for the contact would see now,
// without storing anything (a dry run).
func (s *Store) PreviewRun(ctx context.Context, triggerID, contactID int64) (DueRun, error) {
	rows, err := s.Pool.Query(ctx, `WITH runs AS (
			SELECT 0::bigint AS id, t.id AS trigger_id, t.brand_id, $2::bigint AS contact_id, NULL::bigint AS event_id,
				now() AS due_at, now() AS expires_at, now() AS created_at
			FROM triggers t WHERE t.id = $1)`+dueRunSelect, triggerID, contactID)
	if err != nil {
		return DueRun{}, fmt.Errorf("store: preview run: %w", err)
	}
	rs, err := scanDueRuns(rows)
	if err != nil {
		return DueRun{}, fmt.Errorf("store: preview run: %w", err)
	}
	if len(rs) == 0 {
		return DueRun{}, fmt.Errorf("store: preview run: %w", ErrNotFound)
	}
	return rs[0], nil
}

// FireRuns takes up to limit runs that are due (skipping runs another
// process holds), lets decide judge them, and in the same transaction
// stores each text (proactive, tagged with its rule), the question it
// asks, and every run's outcome: a run is handled once whatever crashes.
// It returns the texts to enqueue and how many runs it handled.
func (s *Store) FireRuns(ctx context.Context, now time.Time, limit int, decide func([]DueRun) []RunOutcome) ([]Fired, int, error) {
	var fired []Fired
	var handled int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH runs AS (
				SELECT id, trigger_id, brand_id, contact_id, event_id, due_at, expires_at, created_at FROM trigger_runs
				WHERE state = 'scheduled' AND due_at <= $2 ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)`+dueRunSelect, limit, now)
		if err != nil {
			return err
		}
		due, err := scanDueRuns(rows)
		if err != nil || len(due) == 0 {
			return err
		}
		handled = len(due)
		byRun := make(map[int64]*DueRun, len(due))
		for i := range due {
			byRun[due[i].RunID] = &due[i]
		}
		outcomes := decide(due)
		// Texts in phone order: queueOne locks each phone, as the inbound
		// pipeline's batches do in the same order, so they never deadlock.
		slices.SortFunc(outcomes, func(a, b RunOutcome) int {
			pa, pb := byRun[a.RunID], byRun[b.RunID]
			if pa == nil || pb == nil {
				return 0
			}
			if pa.Phone != pb.Phone {
				if pa.Phone < pb.Phone {
					return -1
				}
				return 1
			}
			return int(a.RunID - b.RunID)
		})
		var ids, msgs []int64
		var states, reasons, details []string
		for _, o := range outcomes {
			d := byRun[o.RunID]
			if d == nil {
				continue
			}
			var msg int64
			if o.State == "sent" {
				row := OutboundRow{BrandID: d.BrandID, From: d.From, To: d.Phone, Body: o.Body, Purpose: o.Purpose,
					Origin: "trigger", OriginRef: strconv.FormatInt(d.TriggerID, 10), Queue: o.Queue, Segments: o.Segments, Encoding: o.Encoding}
				if o.QuestionID != 0 {
					row.Ask = &Ask{QuestionID: o.QuestionID, Window: o.QuestionWindow, TriggerID: d.TriggerID, Origin: "trigger"}
				}
				q, err := queueOne(ctx, tx, row)
				if err != nil {
					return err
				}
				msg = q.ID
				fired = append(fired, Fired{MessageID: q.ID, From: d.From, Queue: o.Queue})
			}
			ids, msgs = append(ids, o.RunID), append(msgs, msg)
			states, reasons, details = append(states, o.State), append(reasons, o.Reason), append(details, o.Detail)
		}
		_, err = tx.Exec(ctx, `UPDATE trigger_runs r SET state = u.state, reason = u.reason, detail = u.detail,
				message_id = nullif(u.msg, 0), done_at = $6
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(id, state, reason, detail, msg)
			WHERE r.id = u.id`, ids, states, reasons, details, msgs, now)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: fire runs: %w", err)
	}
	return fired, handled, nil
}

// TriggerRun is a run as the API lists it.
type TriggerRun struct {
	ID, TriggerID, ContactID, EventID, MessageID int64
	DueAt, ExpiresAt                             time.Time
	State, Reason, Detail                        string
	CreatedAt                                    time.Time
	DoneAt                                       *time.Time
}

// TriggerRuns lists a rule's runs newest first below the id before.
func (s *Store) TriggerRuns(ctx context.Context, triggerID, before int64, limit int) ([]TriggerRun, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT id, trigger_id, contact_id, coalesce(event_id, 0), coalesce(message_id, 0), due_at, expires_at,
			state, reason, detail, created_at, done_at
		FROM trigger_runs WHERE trigger_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, triggerID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: trigger runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[TriggerRun])
	if err != nil {
		return nil, fmt.Errorf("store: trigger runs: %w", err)
	}
	return out, nil
}

// TriggerCounts counts a rule's runs by state (and skipped or dropped by
// reason as "skipped:cooldown").
func (s *Store) TriggerCounts(ctx context.Context, triggerID int64) (map[string]int64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT CASE WHEN state IN ('skipped', 'dropped') THEN state || ':' || reason ELSE state END, count(*)
		FROM trigger_runs WHERE trigger_id = $1 GROUP BY 1`, triggerID)
	if err != nil {
		return nil, fmt.Errorf("store: trigger counts: %w", err)
	}
	out := map[string]int64{}
	var k string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { out[k] = n; return nil }); err != nil {
		return nil, fmt.Errorf("store: trigger counts: %w", err)
	}
	return out, nil
}

// DateCandidate is a person a date rule may be due for.
type DateCandidate struct {
	ContactID int64
	Timezone  string
	Phone     string
	Value     string // the attribute as stored
}

// DateCandidates lists the brand's people (a conversation with the brand
// or a consent entry for it) whose attribute attr starts with a date whose
// "MM-DD" is in monthDays, or whose "YYYY-MM-DD" is in dates, after the
// contact id after, at most limit.
func (s *Store) DateCandidates(ctx context.Context, brandID int64, attr string, monthDays, dates []string, after int64, limit int) ([]DateCandidate, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT ct.id, ct.timezone, coalesce(ph.phone, ''), ct.attributes ->> $2
		FROM contacts ct
		LEFT JOIN LATERAL (SELECT p.phone FROM contact_phones p WHERE p.contact_id = ct.id ORDER BY p.created_at DESC, p.phone LIMIT 1) ph ON true
		WHERE ct.merged_into IS NULL AND ct.id > $5 AND ct.attributes ? $2
		  AND (substr(ct.attributes ->> $2, 6, 5) = ANY($3) OR substr(ct.attributes ->> $2, 1, 10) = ANY($4))
		  AND (EXISTS (SELECT 1 FROM conversations cv WHERE cv.brand_id = $1 AND cv.contact_id = ct.id)
		    OR EXISTS (SELECT 1 FROM consent_events ce JOIN contact_phones p ON p.phone = ce.phone
		               WHERE p.contact_id = ct.id AND ce.brand_id = $1))
		ORDER BY ct.id LIMIT $6`, brandID, attr, monthDays, dates, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: date candidates: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DateCandidate])
	if err != nil {
		return nil, fmt.Errorf("store: date candidates: %w", err)
	}
	return out, nil
}

// DateRun is one occurrence of a date rule for one person.
type DateRun struct {
	ContactID      int64
	Occurrence     string
	DueAt, Expires time.Time
}

// InsertDateRuns schedules occurrences of a date rule; an occurrence
// already planned (by this pass, an earlier one or another instance) is
// left alone, so catching up never doubles. It returns how many are new.
func (s *Store) InsertDateRuns(ctx context.Context, triggerID, brandID int64, runs []DateRun) (int64, error) {
	if len(runs) == 0 {
		return 0, nil
	}
	contacts := make([]int64, len(runs))
	occ := make([]string, len(runs))
	due := make([]time.Time, len(runs))
	exp := make([]time.Time, len(runs))
	for i, r := range runs {
		contacts[i], occ[i], due[i], exp[i] = r.ContactID, r.Occurrence, r.DueAt, r.Expires
	}
	tag, err := s.Pool.Exec(ctx, `INSERT INTO trigger_runs (trigger_id, brand_id, contact_id, occurrence, due_at, expires_at)
		SELECT $1, $2, u.c, u.o, u.d, u.e FROM unnest($3::bigint[], $4::text[], $5::timestamptz[], $6::timestamptz[]) AS u(c, o, d, e)
		ON CONFLICT DO NOTHING`, triggerID, brandID, contacts, occ, due, exp)
	if err != nil {
		return 0, fmt.Errorf("store: date runs: %w", err)
	}
	return tag.RowsAffected(), nil
}
