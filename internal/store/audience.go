package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AttrFilter is one condition on a contact attribute.
type AttrFilter struct {
	Key    string   // the attribute's name
	Op     string   // eq, in, gt, gte, lt, lte, exists, missing
	Values []string // eq and in: compared as text
	Number float64  // gt, gte, lt, lte: the attribute must be a number
}

// Audience is who a campaign or segment reaches: every filter narrows it.
// With ContactIDs or Phones it is that list (still narrowed by the
// filters); otherwise every contact with a phone the brand may text.
type Audience struct {
	Attributes         []AttrFilter
	Tiers              []string // the tier attribute is one of these
	Labels             []string // the brand conversation carries one of these labels
	Timezones          []string // the contact's stored time zone is one of these
	LastInboundAfter   *time.Time
	LastInboundBefore  *time.Time // (or never wrote)
	LastOutboundAfter  *time.Time
	LastOutboundBefore *time.Time // no text to them since (or never)
	MinActiveDays      int        // engagement: days with a text from them in the last 90
	MinEngagement      int        // engagement score (engagement_scores) at least this
	OptedInAfter       *time.Time // marketing consent given since
	ContactIDs         []int64
	Phones             []string
}

// Explicit says whether the audience is a list of people rather than a
// filter over the brand's opted-in phones.
func (a Audience) Explicit() bool { return len(a.ContactIDs) > 0 || len(a.Phones) > 0 }

// audienceSQL is the shared part of every audience query: one row per
// candidate contact (ct) with its chosen phone (ph), the phone's consent
// states for the brand, whether it is undeliverable, and the brand
// conversation (cv, possibly absent). Every value is a parameter: a filter
// value is data, never SQL. $1 is the brand.
type audienceSQL struct {
	args  []any
	where []string
}

func (q *audienceSQL) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// buildAudience returns the query selecting the audience's candidates with
// columns (contact_id, phone, marketing, conversational, undeliverable,
// conversation_id, timezone); the caller adds what it needs around it.
// first is the number of parameters the caller already holds ($1 is the
// brand, always).
func buildAudience(brandID int64, a Audience, extra ...any) (string, []any, error) {
	q := &audienceSQL{args: append([]any{brandID}, extra...)}
	// The default audience reads the brand's marketing entries once, newest
	// per phone (DISTINCT ON along consent_events_lookup), and drives the
	// query from them; a list of people looks up each phone's newest entry
	// instead, so a short list never reads the whole ledger. The
	// conversational state is looked up per phone in both: as a joined
	// subquery, a plan made on statistics that lag a bulk load rescanned it
	// for every phone (minutes at 100,000).
	base := `
		SELECT DISTINCT ON (ct.id) ct.id AS contact_id, ph.phone, coalesce(mk.status, '') AS marketing,
			coalesce(cs.status, '') AS conversational, ph.undeliverable, cv.id AS conversation_id, ct.timezone
		FROM %s
		JOIN contacts ct ON ct.id = ph.contact_id AND ct.merged_into IS NULL
		LEFT JOIN conversations cv ON cv.brand_id = $1 AND cv.contact_id = ct.id AND cv.merged_into IS NULL%s
		LEFT JOIN LATERAL (SELECT ce.status FROM consent_events ce WHERE ce.brand_id = $1 AND ce.phone = ph.phone
			AND ce.purpose = 'conversational' ORDER BY ce.id DESC LIMIT 1) cs ON true`
	const lookup = `
		LEFT JOIN LATERAL (SELECT ce.status, ce.created_at FROM consent_events ce WHERE ce.brand_id = $1 AND ce.phone = ph.phone
			AND ce.purpose = 'marketing' ORDER BY ce.id DESC LIMIT 1) mk ON true`
	var from, joins string
	switch {
	case len(a.ContactIDs) > 0:
		from, joins = `contact_phones ph`, lookup
		q.where = append(q.where, "ph.contact_id = ANY("+q.arg(a.ContactIDs)+"::bigint[])")
	case len(a.Phones) > 0:
		// Every phone of a listed person: the one to text is chosen below.
		from, joins = `contact_phones ph`, lookup
		q.where = append(q.where, "ph.contact_id IN (SELECT contact_id FROM contact_phones WHERE phone = ANY("+q.arg(a.Phones)+"::text[]))")
	default:
		// The phones with a marketing entry for the brand: only they can be
		// opted in to its marketing.
		from = `(SELECT DISTINCT ON (phone) phone, status, created_at FROM consent_events
			WHERE brand_id = $1 AND purpose = 'marketing' ORDER BY phone, id DESC) mk
			JOIN contact_phones ph ON ph.phone = mk.phone`
	}
	for _, f := range a.Attributes {
		key := q.arg(f.Key)
		switch f.Op {
		case "eq", "in":
			q.where = append(q.where, "(ct.attributes ->> "+key+") = ANY("+q.arg(f.Values)+"::text[])")
		case "gt", "gte", "lt", "lte":
			op := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[f.Op]
			// CASE, not AND: Postgres may evaluate either side of an AND first,
			// and a cast of a text value would fail the query.
			q.where = append(q.where, "(CASE WHEN jsonb_typeof(ct.attributes -> "+key+") = 'number' THEN (ct.attributes ->> "+key+")::float8 "+op+" "+q.arg(f.Number)+"::float8 ELSE false END)")
		case "exists":
			q.where = append(q.where, "(ct.attributes ? "+key+" AND ct.attributes -> "+key+" <> 'null'::jsonb AND ct.attributes ->> "+key+" <> '')")
		case "missing":
			q.where = append(q.where, "NOT (ct.attributes ? "+key+" AND ct.attributes -> "+key+" <> 'null'::jsonb AND ct.attributes ->> "+key+" <> '')")
		default:
			return "", nil, fmt.Errorf("store: audience: unknown operator %q", f.Op)
		}
	}
	if len(a.Tiers) > 0 {
		q.where = append(q.where, "lower(ct.attributes ->> 'tier') = ANY("+q.arg(lower(a.Tiers))+"::text[])")
	}
	if len(a.Labels) > 0 {
		q.where = append(q.where, "cv.labels && "+q.arg(a.Labels)+"::text[]")
	}
	if len(a.Timezones) > 0 {
		q.where = append(q.where, "ct.timezone = ANY("+q.arg(a.Timezones)+"::text[])")
	}
	if a.LastInboundAfter != nil {
		q.where = append(q.where, "cv.last_inbound_at >= "+q.arg(*a.LastInboundAfter))
	}
	if a.LastInboundBefore != nil {
		q.where = append(q.where, "(cv.last_inbound_at IS NULL OR cv.last_inbound_at < "+q.arg(*a.LastInboundBefore)+")")
	}
	if a.LastOutboundAfter != nil {
		q.where = append(q.where, "EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = cv.id AND m.direction = 'outbound' AND m.created_at >= "+q.arg(*a.LastOutboundAfter)+")")
	}
	if a.LastOutboundBefore != nil {
		q.where = append(q.where, "NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = cv.id AND m.direction = 'outbound' AND m.created_at >= "+q.arg(*a.LastOutboundBefore)+")")
	}
	if a.MinActiveDays > 0 {
		q.where = append(q.where, `(SELECT count(DISTINCT date_trunc('day', m.created_at, 'UTC')) FROM (SELECT direction, created_at FROM messages
			WHERE conversation_id = cv.id ORDER BY id DESC LIMIT 200) m WHERE m.direction = 'inbound' AND m.created_at >= now() - interval '90 days') >= `+q.arg(a.MinActiveDays))
	}
	if a.MinEngagement > 0 {
		q.where = append(q.where, "EXISTS (SELECT 1 FROM engagement_scores es WHERE es.brand_id = $1 AND es.contact_id = ct.id AND es.score >= "+
			q.arg(a.MinEngagement)+")")
	}
	if a.OptedInAfter != nil {
		q.where = append(q.where, "mk.status = 'opted_in' AND mk.created_at >= "+q.arg(*a.OptedInAfter))
	}
	sql := fmt.Sprintf(base, from, joins)
	if len(q.where) > 0 {
		sql += "\n\t\tWHERE " + strings.Join(q.where, " AND ")
	}
	// Per person, the phone to text: one they may be texted on, then the
	// one they last wrote from, then the newest.
	sql += `
		ORDER BY ct.id, (coalesce(mk.status, '') = 'opted_in' AND coalesce(cs.status, '') <> 'opted_out' AND NOT ph.undeliverable) DESC,
			(ph.phone = cv.last_phone) DESC NULLS LAST, ph.created_at DESC, ph.phone`
	return sql, q.args, nil
}

func lower(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

// exclusion is why an audience member cannot be sent marketing: "" when
// they can. The order is the one the estimate reports.
const exclusion = `CASE WHEN a.undeliverable THEN 'undeliverable'
	WHEN a.conversational = 'opted_out' OR a.marketing = 'opted_out' THEN 'opted_out'
	WHEN a.marketing <> 'opted_in' THEN 'no_marketing_consent' ELSE '' END`
