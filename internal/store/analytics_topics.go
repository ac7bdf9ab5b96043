package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The topics rollup (migration 00029): per brand and local day, how many
// customer texts hold each term.
const (
	// TopicExamples is how many texts each day keeps per term as examples.
	TopicExamples = 3
	// TopicPruneAt is how many terms a day holds before its long tail is
	// pruned to its TopicKeep most frequent.
	TopicPruneAt = 1200
	TopicKeep    = 600
)

// TermsFunc gives the distinct terms of one text (analytics.Terms).
type TermsFunc func(body string) []string

// topicLoc is the zone a brand's days are cut in: its own, or UTC when
// its name does not load (as the analytics pages read it).
func topicLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// localDay is t's date in loc, as Postgres reads a date.
func localDay(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.DateOnly)
}

// dayBounds is the span of the local day holding t.
func dayBounds(t time.Time, loc *time.Location) (time.Time, time.Time) {
	l := t.In(loc)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	return start, time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}

type termTally struct {
	texts    int
	examples []int64
}

// dayTally is what a fold counted of one brand's day.
type dayTally struct {
	brand  int64
	day    string
	texts  int
	cutoff int // the most texts of a term pruned from this tally
	terms  map[string]*termTally
}

func (d *dayTally) add(id int64, body string, terms TermsFunc) {
	d.texts++
	for _, t := range terms(body) {
		tt := d.terms[t]
		if tt == nil {
			tt = &termTally{}
			d.terms[t] = tt
		}
		tt.texts++
		if len(tt.examples) < TopicExamples {
			tt.examples = append(tt.examples, id)
		}
	}
}

// prune keeps the TopicKeep most frequent terms once there are more than
// TopicPruneAt.
func (d *dayTally) prune() {
	if len(d.terms) <= TopicPruneAt {
		return
	}
	type kv struct {
		term  string
		texts int
	}
	all := make([]kv, 0, len(d.terms))
	for t, tt := range d.terms {
		all = append(all, kv{t, tt.texts})
	}
	slices.SortFunc(all, func(a, b kv) int { return cmp.Or(b.texts-a.texts, cmp.Compare(a.term, b.term)) })
	for _, e := range all[TopicKeep:] {
		delete(d.terms, e.term)
	}
	d.cutoff += all[TopicKeep].texts
}

// topicWindow is how much of the history a fold reads, counts and writes
// at a time: a first fold of years of texts holds a week's tallies.
const topicWindow = 7 * 24 * time.Hour

// foldTopicTexts adds the customer texts of [from, to) — of the brands
// named, or of every brand when brands is nil — to the topics' days, a
// window at a time.
func foldTopicTexts(ctx context.Context, tx pgx.Tx, brands []int64, from, to time.Time, zones map[int64]*time.Location, terms TermsFunc) error {
	if to.Sub(from) > topicWindow {
		// A long span (a first fold, a refold): from its first text on.
		var first *time.Time
		if err := tx.QueryRow(ctx, `SELECT min(created_at) FROM messages WHERE created_at >= $1 AND created_at < $2
			AND ($3::bigint[] IS NULL OR brand_id = ANY($3))`, from, to, brands).Scan(&first); err != nil {
			return err
		}
		if first == nil {
			return nil
		}
		from = *first
	}
	for w := from; w.Before(to); w = w.Add(topicWindow) {
		tallies, err := topicTexts(ctx, tx, brands, w, minTime(w.Add(topicWindow), to), zones, terms)
		if err != nil {
			return err
		}
		if err := writeTopics(ctx, tx, tallies); err != nil {
			return err
		}
	}
	return nil
}

// topicTexts reads the customer texts of [from, to) of the brands named
// (nil: all), a brand's and a day's together, oldest first, into tallies
// by the brands' zones. A day's tally is pruned once its last text is
// read.
func topicTexts(ctx context.Context, tx pgx.Tx, brands []int64, from, to time.Time, zones map[int64]*time.Location, terms TermsFunc) ([]*dayTally, error) {
	rows, err := tx.Query(ctx, `SELECT brand_id, id, created_at, body FROM messages
		WHERE created_at >= $1 AND created_at < $2 AND direction = 'inbound' AND body <> '' AND ($3::bigint[] IS NULL OR brand_id = ANY($3))
		ORDER BY brand_id, created_at, id`, from, to, brands)
	if err != nil {
		return nil, err
	}
	var out []*dayTally
	var cur *dayTally
	var b, id int64
	var at time.Time
	var body string
	_, err = pgx.ForEachRow(rows, []any{&b, &id, &at, &body}, func() error {
		loc := zones[b]
		if loc == nil {
			loc = time.UTC
		}
		day := localDay(at, loc)
		if cur == nil || cur.brand != b || cur.day != day {
			if cur != nil {
				cur.prune()
			}
			cur = &dayTally{brand: b, day: day, terms: map[string]*termTally{}}
			out = append(out, cur)
		}
		cur.add(id, body, terms)
		return nil
	})
	if cur != nil {
		cur.prune()
	}
	return out, err
}

// writeTopics adds tallies to the stored days, then prunes each day that
// grew past TopicPruneAt terms.
func writeTopics(ctx context.Context, tx pgx.Tx, tallies []*dayTally) error {
	for _, d := range tallies {
		n := len(d.terms)
		terms, texts := make([]string, 0, n), make([]int, 0, n)
		ex := [TopicExamples][]int64{}
		for t, tt := range d.terms {
			terms, texts = append(terms, t), append(texts, tt.texts)
			for i := range TopicExamples {
				var id int64
				if i < len(tt.examples) {
					id = tt.examples[i]
				}
				ex[i] = append(ex[i], id)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO analytics_topic_days (brand_id, day, term, texts, examples)
			SELECT $1, $2::date, u.t, u.n, array_remove(ARRAY[u.e1, u.e2, u.e3], 0)
			  FROM unnest($3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[]) u(t, n, e1, e2, e3)
			ON CONFLICT (brand_id, day, term) DO UPDATE
			   SET texts = analytics_topic_days.texts + excluded.texts,
			       examples = (analytics_topic_days.examples || excluded.examples)[1:3]`,
			d.brand, d.day, terms, texts, ex[0], ex[1], ex[2]); err != nil {
			return err
		}
		var held int
		if err := tx.QueryRow(ctx, `WITH t AS (
				INSERT INTO analytics_topic_totals (brand_id, day, texts, cutoff) VALUES ($1, $2::date, $3, $4)
				ON CONFLICT (brand_id, day) DO UPDATE SET texts = analytics_topic_totals.texts + excluded.texts,
				       cutoff = analytics_topic_totals.cutoff + excluded.cutoff)
			SELECT count(*) FROM analytics_topic_days WHERE brand_id = $1 AND day = $2::date`,
			d.brand, d.day, d.texts, d.cutoff).Scan(&held); err != nil {
			return err
		}
		if held <= TopicPruneAt {
			continue
		}
		if _, err := tx.Exec(ctx, `WITH ranked AS (
				SELECT term, row_number() OVER (ORDER BY texts DESC, term) AS rn FROM analytics_topic_days
				 WHERE brand_id = $1 AND day = $2::date),
			gone AS (DELETE FROM analytics_topic_days d USING ranked r
				WHERE d.brand_id = $1 AND d.day = $2::date AND d.term = r.term AND r.rn > $3 RETURNING d.texts)
			UPDATE analytics_topic_totals SET cutoff = cutoff + (SELECT coalesce(max(texts), 0) FROM gone)
			 WHERE brand_id = $1 AND day = $2::date`, d.brand, d.day, TopicKeep); err != nil {
			return err
		}
	}
	return nil
}

// foldTopics keeps the topics rollup up to date with the rest: it
// refolds every brand whose zone changed (or was never folded) from its
// first text to from, recounts the days of the slots whose customer texts
// changed (dirtyBrands, dirtySlots; all before from), and adds the texts
// of [from, to).
func foldTopics(ctx context.Context, tx pgx.Tx, from, to time.Time, dirtyBrands []int64, dirtySlots []time.Time, terms TermsFunc) error {
	type brandZone struct {
		id         int64
		zone, done string
	}
	rows, err := tx.Query(ctx, `SELECT b.id, b.timezone, coalesce(z.zone, '') FROM brands b LEFT JOIN analytics_topic_zones z ON z.brand_id = b.id`)
	if err != nil {
		return err
	}
	bzs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (brandZone, error) {
		var z brandZone
		return z, r.Scan(&z.id, &z.zone, &z.done)
	})
	if err != nil {
		return err
	}
	zones := make(map[int64]*time.Location, len(bzs))
	refolded := map[int64]bool{}
	var refold []int64
	for _, z := range bzs {
		loc := topicLoc(z.zone)
		zones[z.id] = loc
		if z.done != loc.String() {
			refolded[z.id] = true
			refold = append(refold, z.id)
		}
	}
	if len(refold) > 0 {
		for _, q := range []string{`DELETE FROM analytics_topic_days WHERE brand_id = ANY($1)`, `DELETE FROM analytics_topic_totals WHERE brand_id = ANY($1)`} {
			if _, err := tx.Exec(ctx, q, refold); err != nil {
				return err
			}
		}
		names := make([]string, len(refold))
		for i, id := range refold {
			names[i] = zones[id].String()
		}
		if _, err := tx.Exec(ctx, `INSERT INTO analytics_topic_zones (brand_id, zone) SELECT * FROM unnest($1::bigint[], $2::text[])
			ON CONFLICT (brand_id) DO UPDATE SET zone = excluded.zone`, refold, names); err != nil {
			return err
		}
		if err := foldTopicTexts(ctx, tx, refold, time.Time{}, from, zones, terms); err != nil {
			return err
		}
	}
	type brandDay struct {
		brand int64
		day   string
	}
	seen := map[brandDay]bool{}
	for i, b := range dirtyBrands {
		loc := zones[b]
		if loc == nil || refolded[b] {
			continue // a brand since deleted, or one just refolded whole
		}
		k := brandDay{b, localDay(dirtySlots[i], loc)}
		if seen[k] {
			continue
		}
		seen[k] = true
		start, end := dayBounds(dirtySlots[i], loc)
		end = minTime(end, from)
		for _, q := range []string{`DELETE FROM analytics_topic_days WHERE brand_id = $1 AND day = $2::date`,
			`DELETE FROM analytics_topic_totals WHERE brand_id = $1 AND day = $2::date`} {
			if _, err := tx.Exec(ctx, q, b, k.day); err != nil {
				return err
			}
		}
		if err := foldTopicTexts(ctx, tx, []int64{b}, start, end, zones, terms); err != nil {
			return err
		}
	}
	return foldTopicTexts(ctx, tx, nil, from, to, zones, terms)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// TopicSum is how many texts of a period, and of the period before it,
// the topics rollup counts for a term.
type TopicSum struct {
	Term            string
	Texts, Previous int
	// Slack and PreviousSlack are how far short of the truth Texts and
	// Previous may be: the cutoffs of the days the term is missing from
	// (pruned there, or never there).
	Slack, PreviousSlack int
}

// TopicsRead is what AnalyticsTopicsRead read in one snapshot.
type TopicsRead struct {
	// Usable is false when the rollup cannot answer for the period (not
	// folded into it yet, cut in another zone than the brand's, or a
	// changed day not recounted yet): read the period raw.
	Usable   bool
	FoldedTo time.Time
	// Sums are the stored counts of every term of the two periods.
	Sums []TopicSum
	// Texts and PreviousTexts are the texts the rollup counted in each
	// period; Cutoff and PreviousCutoff how far short of the truth a
	// stored count may be (the sums of the days' cutoffs).
	Texts, PreviousTexts   int
	Cutoff, PreviousCutoff int
	// Tail and PreviousTail are the texts from the watermark on, raw.
	Tail, PreviousTail []InboundText
}

// AnalyticsTopicsRead reads, in one snapshot, the topics rollup of the
// local days of [prevStart, end) in loc (prevStart, start and end local
// midnights; [start, end) the period) and the raw texts after its
// watermark, up to tailLimit each period.
func (s *Store) AnalyticsTopicsRead(ctx context.Context, brandID int64, loc *time.Location, prevStart, start, end time.Time, tailLimit int) (TopicsRead, error) {
	var r TopicsRead
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var zone string
		if err := tx.QueryRow(ctx, `SELECT folded_to, coalesce((SELECT zone FROM analytics_topic_zones WHERE brand_id = $1), '')
			FROM analytics_state WHERE id = 1`, brandID).Scan(&r.FoldedTo, &zone); err != nil {
			return err
		}
		if !r.FoldedTo.After(prevStart) || zone != loc.String() {
			return nil
		}
		fresh, err := topicDaysCurrent(ctx, tx, brandID, prevStart, minTime(end, r.FoldedTo))
		if err != nil || !fresh {
			return err
		}
		r.Usable = true
		fromDay, startDay, endDay := localDay(prevStart, loc), localDay(start, loc), localDay(end, loc)
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(texts) FILTER (WHERE day >= $3::date), 0), coalesce(sum(texts) FILTER (WHERE day < $3::date), 0),
			       coalesce(sum(cutoff) FILTER (WHERE day >= $3::date), 0), coalesce(sum(cutoff) FILTER (WHERE day < $3::date), 0)
			  FROM analytics_topic_totals WHERE brand_id = $1 AND day >= $2::date AND day < $4::date`,
			brandID, fromDay, startDay, endDay).Scan(&r.Texts, &r.PreviousTexts, &r.Cutoff, &r.PreviousCutoff); err != nil {
			return err
		}
		// Each term's counts, and the cutoffs of the days it is missing
		// from (its slack: $5 and $6 are the periods' whole cutoffs).
		sums := `SELECT d.term, coalesce(sum(d.texts) FILTER (WHERE d.day >= $3::date), 0) AS cur,
			       coalesce(sum(d.texts) FILTER (WHERE d.day < $3::date), 0) AS prev,
			       $5::int - coalesce(sum(t.cutoff) FILTER (WHERE d.day >= $3::date), 0)::int AS slack,
			       $6::int - coalesce(sum(t.cutoff) FILTER (WHERE d.day < $3::date), 0)::int AS prev_slack
			  FROM analytics_topic_days d JOIN analytics_topic_totals t ON t.brand_id = d.brand_id AND t.day = d.day
			 WHERE d.brand_id = $1 AND d.day >= $2::date AND d.day < $4::date`
		// Every stored term (pruning bounds them: at most TopicPruneAt a
		// day); the ranking, with the tail's counts added, is the caller's.
		rows, err := tx.Query(ctx, sums+` GROUP BY d.term`, brandID, fromDay, startDay, endDay, r.Cutoff, r.PreviousCutoff)
		if err != nil {
			return err
		}
		if r.Sums, err = collectTopicSums(rows); err != nil {
			return err
		}
		if r.FoldedTo.Before(end) {
			if r.Tail, err = inboundTexts(ctx, tx, brandID, maxTime(r.FoldedTo, start), end, tailLimit); err != nil {
				return err
			}
		}
		if r.FoldedTo.Before(start) {
			if r.PreviousTail, err = inboundTexts(ctx, tx, brandID, r.FoldedTo, start, tailLimit); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return TopicsRead{}, fmt.Errorf("store: analytics topics: %w", err)
	}
	return r, nil
}

func collectTopicSums(rows pgx.Rows) ([]TopicSum, error) {
	return pgx.CollectRows(rows, pgx.RowToStructByPos[TopicSum])
}

// topicDaysCurrent says whether no slot of [from, to) has customer texts
// changed since it was folded (analytics_dirty, texts set).
func topicDaysCurrent(ctx context.Context, tx pgx.Tx, brandID int64, from, to time.Time) (bool, error) {
	var changed bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM analytics_dirty WHERE kind = 'message' AND texts AND brand_id = $1
		AND slot >= $2 AND slot < $3)`, brandID, from, to).Scan(&changed)
	return !changed, err
}

// AnalyticsTopicExamples are up to n example texts of each term, the
// oldest first, from the rollup's days of [fromDay, toDay) (local dates).
func (s *Store) AnalyticsTopicExamples(ctx context.Context, brandID int64, fromDay, toDay string, terms []string, n int) (map[string][]InboundText, error) {
	rows, err := s.Pool.Query(ctx, `SELECT t.term, m.id, m.body
		  FROM (SELECT DISTINCT unnest($4::text[])) q(term)
		 CROSS JOIN LATERAL (SELECT d.term, e.id, d.day, e.n FROM analytics_topic_days d, unnest(d.examples) WITH ORDINALITY e(id, n)
		         WHERE d.brand_id = $1 AND d.day >= $2::date AND d.day < $3::date AND d.term = q.term
		         ORDER BY d.day, e.n LIMIT $5) t
		  JOIN messages m ON m.id = t.id
		 ORDER BY t.term, t.day, t.n`, brandID, fromDay, toDay, terms, n)
	if err != nil {
		return nil, fmt.Errorf("store: analytics topic examples: %w", err)
	}
	out := map[string][]InboundText{}
	var term string
	var t InboundText
	if _, err := pgx.ForEachRow(rows, []any{&term, &t.ID, &t.Body}, func() error {
		if len(out[term]) < n {
			out[term] = append(out[term], t)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: analytics topic examples: %w", err)
	}
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
