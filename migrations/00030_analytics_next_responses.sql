-- +goose Up
-- Each stored wait also keeps its first automatic answer (before any
-- person's), its next responses (each customer text after a person's
-- reply, and the person's next reply) and a customer text still waiting
-- for one, so that next-response times and the share of waits answered
-- automatically come from the rollup as first responses do.
--
-- next_responses packs the pairs as big-endian 64-bit microseconds after
-- started_at (asked, answered, asked, answered…; NULL for none): a read
-- of a week's waits decodes it as plain bytes, where two timestamptz[]
-- columns cost it more than all the other columns together.
ALTER TABLE analytics_waits
    ADD COLUMN first_auto_reply_at timestamptz,
    ADD COLUMN pending_since       timestamptz,
    ADD COLUMN next_responses      bytea CHECK (octet_length(next_responses) % 16 = 0);

-- The waits stored so far lack them: the next pass recomputes every
-- conversation that has one (read from the raw texts until then).
INSERT INTO analytics_dirty (kind, brand_id, conversation_id)
SELECT 'activity', brand_id, conversation_id FROM analytics_waits GROUP BY brand_id, conversation_id;

-- +goose Down
ALTER TABLE analytics_waits
    DROP COLUMN first_auto_reply_at,
    DROP COLUMN pending_since,
    DROP COLUMN next_responses;
