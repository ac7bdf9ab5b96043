-- +goose Up
-- The console's inbox at a million conversations and ten million texts.
--
-- Filters: the inbox index (00005) lists every status in one order, waiting
-- customers first, so "closed" skipped every waiting conversation before
-- its first row (300,000 at a million: 1.7 s). Partial indexes in the same
-- order for the closed and the snoozed, and one per assignee, start each
-- of those lists at its first row. None of them costs the inbound path a
-- HOT update: their keys and predicates read status, assignee_id,
-- merged_into and the inbox key's columns, which a text to a conversation
-- already waiting leaves alone (see 00005); a text that starts the waiting
-- clock or reopens a closed conversation already updates the inbox index.
CREATE INDEX conversations_inbox_closed ON conversations (inbox_key(waiting_since, answered_at, created_at), id)
    WHERE merged_into IS NULL AND status = 'closed';
CREATE INDEX conversations_inbox_snoozed ON conversations (inbox_key(waiting_since, answered_at, created_at), id)
    WHERE merged_into IS NULL AND status = 'snoozed';
CREATE INDEX conversations_inbox_assignee ON conversations (assignee_id, inbox_key(waiting_since, answered_at, created_at), id)
    WHERE merged_into IS NULL AND assignee_id IS NOT NULL;

-- Search. Names and phones match anywhere in them (ILIKE / LIKE '%…%'),
-- which a trigram index answers; pg_trgm ships with Postgres (contrib) and
-- is a trusted extension, so a database owner may create it. Contacts and
-- phones are written once per new customer, not per text.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX contacts_name_trgm ON contacts USING gin (name gin_trgm_ops) WHERE merged_into IS NULL;
CREATE INDEX contacts_loyalty_lower ON contacts (lower(loyalty_id)) WHERE loyalty_id IS NOT NULL AND merged_into IS NULL;
CREATE INDEX contact_phones_phone_trgm ON contact_phones USING gin (phone gin_trgm_ops);

-- Message text has no index here: a full-text index on messages.body is
-- written by every text in or out, and cost the inbound benchmark 0.73× →
-- 0.59× of its baseline (back to back), so searching message text walks
-- the inbox instead (internal/store/inbox_search.go).

-- +goose Down
DROP INDEX contact_phones_phone_trgm;
DROP INDEX contacts_loyalty_lower;
DROP INDEX contacts_name_trgm;
DROP INDEX conversations_inbox_assignee;
DROP INDEX conversations_inbox_snoozed;
DROP INDEX conversations_inbox_closed;
