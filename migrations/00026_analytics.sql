-- +goose Up
-- Analytics reads a brand's rows of a time range. Block-range indexes on
-- created_at let those reads skip every part of the table outside the
-- range: rows arrive in created_at order, so each range of 32 pages holds a
-- narrow span of time, and the index stays a few pages per million rows.
-- Keeping one up to date costs an insert almost nothing (a summary is
-- widened only when a row falls outside it), unlike a B-tree that every
-- inbound text would have to write into.
CREATE INDEX messages_created_brin ON messages USING brin (created_at) WITH (pages_per_range = 32);
CREATE INDEX consent_events_created_brin ON consent_events USING brin (created_at) WITH (pages_per_range = 32);
CREATE INDEX conversation_activity_created_brin ON conversation_activity USING brin (created_at) WITH (pages_per_range = 32);

-- +goose Down
DROP INDEX conversation_activity_created_brin;
DROP INDEX consent_events_created_brin;
DROP INDEX messages_created_brin;
