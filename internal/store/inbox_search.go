package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// An inbox search is answered in two halves, each the first rows (inbox
// order) of its own matches: the contact's (phone digits; else name,
// anywhere in it, or the whole loyalty ID) and, for a search that is not
// phone digits, the messages' text. The first n rows of the union of the
// two halves' first n rows are the first n of the whole result.
//
// Each half is found the cheaper of two ways, and the choice is not left
// to the planner's estimate of how common the search is: a pattern
// matched anywhere in a name has no useful estimate (a name that matches
// nothing was planned as a walk of the whole inbox, 5–11 s at a million
// conversations). First the half walks the top of the inbox (window rows
// of the other filters, in order) checking each row: a common search fills
// the page there. If it does not, the search's index gives every match
// (trigram for names and phones, full text for messages, migration 00028)
// — few, since the top of the inbox had few — and the page is their first
// rows. Beyond searchCap matches the index is no better than walking, and
// the half walks the whole inbox.
const searchCap = 20000

// searchHalf is one half of a search: match is the condition on a
// conversation w (with w.id and w.contact_id), cands the query of every
// matching conversation c through the search indexes, ending in its WHERE
// clause so that the other filters can be added ("" if no index fits),
// window how far the first walk goes (rows whose check costs more walk
// less: a conversation's messages are about ten rows, its contact one; 0:
// no walk, the index only).
type searchHalf struct {
	match, cands string
	window       int
	args         []any // the other filters' parameters (the first base), then the half's own
	base         int
}

// inboxSearch returns the ids of the first n conversations in inbox order
// that satisfy others (with args, its parameters) and match search. The
// halves run at once, on two connections: each mostly waits for pages.
func (s *Store) inboxSearch(ctx context.Context, search, others string, args []any, n int) ([]int64, error) {
	halves := searchHalves(search, args)
	type result struct {
		ids []int64
		err error
	}
	results := make(chan result, len(halves))
	for _, h := range halves {
		go func() {
			ids, err := s.searchHalf(ctx, h, others, n)
			results <- result{ids, err}
		}()
	}
	var out []int64
	var first error
	for range halves {
		r := <-results
		if r.err != nil && first == nil {
			first = fmt.Errorf("store: inbox search: %w", r.err)
		}
		out = append(out, r.ids...)
	}
	return out, first
}

// searchHalves builds the halves of search; base holds the other filters'
// parameters.
func searchHalves(search string, base []any) []searchHalf {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	digits := onlyDigits(search)
	if len(digits) >= 4 && len(digits)*2 >= len(strings.ReplaceAll(search, " ", "")) {
		args = slices.Clone(base)
		like := arg("%" + digits + "%")
		phones := searchHalf{
			match:  `EXISTS (SELECT 1 FROM contact_phones cp WHERE cp.contact_id = w.contact_id AND cp.phone LIKE ` + like + `)`,
			cands:  `SELECT c.id FROM contact_phones cp JOIN conversations c ON c.contact_id = cp.contact_id WHERE cp.phone LIKE ` + like,
			window: 2000, args: args, base: len(base),
		}
		// A loyalty ID may be mostly digits too: the whole ID, from its
		// index alone.
		args = slices.Clone(base)
		loyalty := `ct.loyalty_id IS NOT NULL AND lower(ct.loyalty_id) = lower(` + arg(search) + `)`
		return []searchHalf{phones, {
			match: `EXISTS (SELECT 1 FROM contacts ct WHERE ct.id = w.contact_id AND ` + loyalty + `)`,
			cands: `SELECT c.id FROM contacts ct JOIN conversations c ON c.contact_id = ct.id WHERE ct.merged_into IS NULL AND ` + loyalty,
			args:  args, base: len(base),
		}}
	}
	args = slices.Clone(base)
	like, exact := arg("%"+likeEscape(search)+"%"), arg(search)
	contact := `(ct.name ILIKE ` + like + ` OR (ct.loyalty_id IS NOT NULL AND lower(ct.loyalty_id) = lower(` + exact + `)))`
	halves := []searchHalf{{
		match:  `EXISTS (SELECT 1 FROM contacts ct WHERE ct.id = w.contact_id AND ` + contact + `)`,
		cands:  `SELECT c.id FROM contacts ct JOIN conversations c ON c.contact_id = ct.id WHERE ct.merged_into IS NULL AND ` + contact,
		window: 3000, args: args, base: len(base),
	}}
	args = slices.Clone(base)
	like = arg("%" + likeEscape(search) + "%")
	text := `sm.body ILIKE ` + like
	// No index path for message text: a full-text index on messages.body
	// cost every inbound text a GIN insertion, 0.73× → 0.59× of the
	// inbound benchmark's baseline (measured back to back), so this half
	// walks the inbox's top and then the inbox.
	msgs := searchHalf{window: 300}
	if q := prefixQuery(search); q != "" {
		text += ` AND to_tsvector('simple', sm.body) @@ to_tsquery('simple', ` + arg(q) + `)`
	}
	msgs.match = `EXISTS (SELECT 1 FROM messages sm WHERE sm.conversation_id = w.id AND ` + text + `)`
	msgs.args, msgs.base = args, len(base)
	return append(halves, msgs)
}

// searchHalf returns the first n conversations of one half (see above).
func (s *Store) searchHalf(ctx context.Context, h searchHalf, others string, n int) ([]int64, error) {
	// $1, the user, gets its type in every statement, whether or not a
	// filter reads it.
	const me = `WITH me(id) AS (SELECT $1::bigint)`
	args := h.args
	cols := `c.id, c.contact_id, ` + inboxKey + ` AS k`
	var ids []int64
	if h.window > 0 {
		var walked int
		if err := s.Pool.QueryRow(ctx, me+`, w AS MATERIALIZED (SELECT `+cols+` FROM conversations c WHERE `+others+`
				ORDER BY `+inboxKey+`, c.id LIMIT `+fmt.Sprint(h.window)+`)
			SELECT (SELECT count(*) FROM w), array(SELECT w.id FROM w WHERE `+h.match+` ORDER BY w.k, w.id LIMIT `+fmt.Sprint(n)+`)`,
			args...).Scan(&walked, &ids); err != nil {
			return nil, err
		}
		if len(ids) >= n || walked < h.window {
			return ids, nil // the page is full, or the walk saw every conversation
		}
	}
	var cands []int64
	if h.cands != "" {
		if err := s.Pool.QueryRow(ctx, me+` SELECT array(SELECT id FROM (`+h.cands+` AND `+others+`) m(id) LIMIT `+fmt.Sprint(searchCap+1)+`)`,
			args...).Scan(&cands); err != nil {
			return nil, err
		}
	}
	if h.cands != "" && len(cands) <= searchCap {
		args = append(slices.Clone(args[:h.base]), cands)
		err := s.Pool.QueryRow(ctx, fmt.Sprintf(me+` SELECT array(SELECT c.id FROM conversations c WHERE %s AND c.id = ANY($%d)
			ORDER BY %s, c.id LIMIT %d)`, others, len(args), inboxKey, n), args...).Scan(&ids)
		return ids, err
	}
	err := s.Pool.QueryRow(ctx, me+` SELECT array(SELECT w.id FROM (SELECT `+cols+` FROM conversations c WHERE `+others+`) w
		WHERE `+h.match+` ORDER BY w.k, w.id LIMIT `+fmt.Sprint(n)+`)`, args...).Scan(&ids)
	return ids, err
}

// prefixQuery is s as a full-text query: each run of letters and digits a
// prefix to match ("bag 7" → "bag:* & 7:*"), so nothing in s is read as
// tsquery syntax. Postgres's parser splits a text into words at the same
// places, apart from tokens it keeps whole (e-mail addresses, URLs, file
// paths), whose parts are not found alone.
func prefixQuery(s string) string {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		words = append(words, w+":*")
	}
	return strings.Join(words, " & ")
}
