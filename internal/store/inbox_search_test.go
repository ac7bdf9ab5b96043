package store_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/internal/store"
)

// TestInboxSearchFindsWhatAScanFinds: every way a search is answered (the
// walk of the inbox's top, the search indexes, the whole walk) gives the
// rows, in inbox order, that reading every conversation finds. 4,000
// conversations (more than the longest first walk): common and rare
// names, loyalty IDs (one of them mostly digits, like a phone), phones
// and message words, with the status filter and a second page.
func TestInboxSearchFindsWhatAScanFinds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 4000
	if _, err := b.st.Pool.Exec(b.ctx, `
		WITH ct AS (
			INSERT INTO contacts (id, name, loyalty_id)
			SELECT g, CASE WHEN g % 10 = 0 THEN 'Dana Okafor' WHEN g = 3333 THEN 'Zeynep Quillfeather' ELSE 'Sam Smith ' || g END,
			       CASE WHEN g % 7 = 0 THEN 'LOY-' || lpad(g::text, 7, '0') END
			  FROM generate_series(1, $1::int) g RETURNING id),
		ph AS (INSERT INTO contact_phones (phone, contact_id) SELECT '+1646' || lpad(id::text, 7, '0'), id FROM ct RETURNING contact_id)
		INSERT INTO conversations (id, brand_id, contact_id, status, last_phone, waiting_since, answered_at, created_at)
		SELECT contact_id, $2, contact_id, CASE WHEN contact_id % 3 = 0 THEN 'closed' ELSE 'open' END, '+1646' || lpad(contact_id::text, 7, '0'),
		       CASE WHEN contact_id % 4 = 0 THEN now() - contact_id * interval '1 minute' END,
		       now() - (contact_id * 7919 % 5000) * interval '1 minute', now() - interval '1 year'
		  FROM ph`, n, b.air.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `
		INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status)
		SELECT c.id, c.brand_id, 'inbound', CASE WHEN c.id % 5 = 0 THEN 'My refund for booking K' || c.id ELSE 'Is there wifi on board?' END
		       || CASE WHEN c.id = 2718 THEN ' ref ZX9QW ¿' ELSE '' END, c.last_phone, '+15005550006', 'received'
		  FROM conversations c, generate_series(1, 3)`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Pool.Exec(b.ctx, `ANALYZE contacts; ANALYZE conversations; ANALYZE messages; ANALYZE contact_phones`); err != nil {
		t.Fatal(err)
	}
	// What reading every row finds, in inbox order: the rule the console
	// documents (phone digits; else name anywhere, the whole loyalty ID or
	// words of a message).
	scan := func(status, where string, args ...any) []int64 {
		t.Helper()
		q := `SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE (` + where + `)`
		if status != "" {
			q += ` AND c.status = '` + status + `'`
		}
		rows, err := b.st.Pool.Query(b.ctx, q+` ORDER BY inbox_key(c.waiting_since, c.answered_at, c.created_at), c.id`, args...)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	byText := `EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.body ILIKE $1)`
	for _, tc := range []struct {
		search, status string
		want           []int64
	}{
		{"Okafor", "", scan("", `ct.name ILIKE '%Okafor%'`)},                                                        // common: the walk fills the page
		{"okafor", "open", scan("open", `ct.name ILIKE '%Okafor%'`)},                                                // any case, with a filter
		{"Quillfeather", "", scan("", `ct.name ILIKE '%Quillfeather%'`)},                                            // rare: the index
		{"LOY-0002железо", "", nil},                                                                                 // nothing
		{"loy-0000007", "", scan("", `ct.loyalty_id = 'LOY-0000007' OR c.last_phone LIKE '%0000007%'`)},             // reads as digits: phones too
		{"LOY-0003339", "closed", scan("closed", `ct.loyalty_id = 'LOY-0003339' OR c.last_phone LIKE '%0003339%'`)}, // closed
		{"6460001234", "", scan("", `c.last_phone LIKE '%6460001234%'`)},                                            // phone digits
		{"refund", "", scan("", byText, "%refund%")},                                                                // common word
		{"ZX9Q", "", scan("", byText, "%ZX9Q%")},                                                                    // rare word, by its start
		{"booking K2", "open", scan("open", byText, "%booking K2%")},                                                // words in order
		{"¿", "", scan("", byText, "%¿%")},                                                                          // no word: the whole walk
	} {
		page, err := b.st.Inbox(b.ctx, store.InboxQuery{UserID: 1, Search: tc.search, Status: tc.status, Limit: 50})
		if err != nil {
			t.Fatalf("search %q: %v", tc.search, err)
		}
		var got []int64
		for _, r := range page.Rows {
			got = append(got, r.ID)
		}
		want := tc.want[:min(50, len(tc.want))]
		if !slices.Equal(got, want) {
			t.Errorf("search %q (status %q): got %d rows %v…, want %d %v…", tc.search, tc.status, len(got), got[:min(5, len(got))], len(want), want[:min(5, len(want))])
			continue
		}
		if len(tc.want) > 50 {
			// The second page continues where the first ended.
			next, err := b.st.Inbox(b.ctx, store.InboxQuery{UserID: 1, Search: tc.search, Status: tc.status, Limit: 50, After: page.Next})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want[50:min(100, len(tc.want))]
			got = got[:0]
			for _, r := range next.Rows {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("search %q page 2: got %v…, want %v…", tc.search, got[:min(5, len(got))], want[:min(5, len(want))])
			}
		}
	}
}
