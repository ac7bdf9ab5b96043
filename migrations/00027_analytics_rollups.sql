-- +goose Up
-- Analytics rollups (issue 13): the figures of every closed 15-minute slot
-- of a brand, so a page reads a few rows a slot instead of every text.
--
-- Slots, not hours: every zone's offset (+05:45, +10:30 with its 30-minute
-- DST shift…) is a whole number of quarter hours, so a 15-minute slot from
-- the epoch lies in exactly one local hour and one local day of any zone,
-- and a brand changing its zone needs no refold.
--
-- How they stay exact: one instance (analytics.Refresher, under a job lock)
-- folds the slots before a watermark (analytics_state.folded_to) from the
-- raw rows; a read takes the rollups before the watermark and the raw rows
-- from it on (the live tail), in one snapshot. The watermark never passes
-- the start of a transaction still running (its rows carry that start as
-- created_at), so no text lands behind it unseen. What can still change a
-- folded slot — a text stored with an old created_at (the spool replayed
-- after an outage, an import), a late status callback, a deleted text, a
-- merge moving texts between conversations — is logged by the triggers
-- below in analytics_dirty: reads take those slots and conversations raw
-- until the next pass refolds them. The triggers' WHEN clauses let every
-- row of the inbound path through untouched: its created_at is now().

-- The tail (rows from the watermark on) is read through the block-range
-- indexes of migration 00026. A range is summarised only by a vacuum, so
-- without autosummarize every page written since the table's last vacuum
-- (up to a fifth of it) would be read by every tail read; with it,
-- autovacuum summarises each range soon after it fills (a work item per
-- 32 pages, nothing per row).
ALTER INDEX messages_created_brin SET (autosummarize = on);
ALTER INDEX consent_events_created_brin SET (autosummarize = on);
ALTER INDEX conversation_activity_created_brin SET (autosummarize = on);

-- The watermark: every slot before folded_to is in the rollups.
CREATE TABLE analytics_state (
    id           int PRIMARY KEY CHECK (id = 1),
    folded_to    timestamptz NOT NULL,
    refreshed_at timestamptz
);
INSERT INTO analytics_state (id, folded_to) VALUES (1, '1970-01-01 00:00:00+00');

-- Texts per brand and slot by everything volume and delivery group by.
CREATE TABLE analytics_message_slots (
    brand_id   bigint NOT NULL,
    slot       timestamptz NOT NULL,
    direction  text NOT NULL,
    purpose    text NOT NULL,
    origin     text NOT NULL,
    status     text NOT NULL,
    accepted   boolean NOT NULL, -- sent_at IS NOT NULL: the carrier took them
    error_code int,
    texts      int NOT NULL,
    segments   bigint NOT NULL
);
CREATE INDEX analytics_message_slots_brand ON analytics_message_slots (brand_id, slot);

-- Phones whose consent changed per brand, slot, status and source (a
-- phone counted once a slot, as the raw read counts it).
CREATE TABLE analytics_consent_slots (
    brand_id bigint NOT NULL,
    slot     timestamptz NOT NULL,
    status   text NOT NULL,
    source   text NOT NULL,
    phones   int NOT NULL
);
CREATE INDEX analytics_consent_slots_brand ON analytics_consent_slots (brand_id, slot);

-- Customers' waits (analytics.Episodes over the conversation's events
-- before the watermark), stored once computed.
CREATE TABLE analytics_waits (
    conversation_id   bigint NOT NULL,
    started_at        timestamptz NOT NULL,
    brand_id          bigint NOT NULL,
    first_response_at timestamptz,
    resolved_at       timestamptz,
    first_responder   bigint -- the user whose reply was the first response
);
CREATE INDEX analytics_waits_conversation ON analytics_waits (conversation_id, started_at);
CREATE INDEX analytics_waits_brand ON analytics_waits (brand_id, started_at);

-- Folded slots (kind message or consent, slot set) and conversations
-- (conversation_id set) that changed since they were folded.
CREATE TABLE analytics_dirty (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('message', 'consent', 'activity')),
    brand_id        bigint NOT NULL,
    slot            timestamptz,
    conversation_id bigint
);
CREATE INDEX analytics_dirty_brand ON analytics_dirty (brand_id);

-- The functions take the watermark row FOR SHARE: a pass holds it FOR
-- UPDATE from before it reads anything, so a change either commits before
-- the pass reads (and is folded) or reads the new watermark (and is logged).
-- +goose StatementBegin
CREATE FUNCTION analytics_mark_message() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    f timestamptz;
    moved boolean;
BEGIN
    SELECT folded_to INTO f FROM analytics_state WHERE id = 1 FOR SHARE;
    moved := TG_OP <> 'UPDATE' OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id;
    IF TG_OP <> 'INSERT' AND OLD.created_at < f THEN
        INSERT INTO analytics_dirty (kind, brand_id, slot, conversation_id)
        VALUES ('message', OLD.brand_id, date_bin('15 minutes', OLD.created_at, timestamptz '1970-01-01 00:00:00+00'),
                CASE WHEN moved THEN OLD.conversation_id END);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.created_at < f
       AND (TG_OP = 'INSERT' OR moved OR NEW.brand_id <> OLD.brand_id OR NEW.created_at <> OLD.created_at) THEN
        INSERT INTO analytics_dirty (kind, brand_id, slot, conversation_id)
        VALUES ('message', NEW.brand_id, date_bin('15 minutes', NEW.created_at, timestamptz '1970-01-01 00:00:00+00'),
                CASE WHEN moved THEN NEW.conversation_id END);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION analytics_mark_consent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.created_at < (SELECT folded_to FROM analytics_state WHERE id = 1 FOR SHARE) THEN
        INSERT INTO analytics_dirty (kind, brand_id, slot)
        VALUES ('consent', NEW.brand_id, date_bin('15 minutes', NEW.created_at, timestamptz '1970-01-01 00:00:00+00'));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION analytics_mark_activity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    f timestamptz;
BEGIN
    SELECT folded_to INTO f FROM analytics_state WHERE id = 1 FOR SHARE;
    IF TG_OP <> 'INSERT' AND OLD.created_at < f THEN
        INSERT INTO analytics_dirty (kind, brand_id, conversation_id)
        SELECT 'activity', c.brand_id, c.id FROM conversations c WHERE c.id = OLD.conversation_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.created_at < f THEN
        INSERT INTO analytics_dirty (kind, brand_id, conversation_id)
        SELECT 'activity', c.brand_id, c.id FROM conversations c WHERE c.id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- "Old" is before the slot holding two minutes ago (store.FoldMargin): a
-- pass never folds past the slot of its own start less two minutes, nor
-- past that of any running transaction, so a newer row is never in a
-- folded slot and the function (and its lock) is never called for it.
-- A status change counts only if it changes what delivery groups by.
CREATE TRIGGER analytics_message_insert AFTER INSERT ON messages FOR EACH ROW
    WHEN (NEW.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00'))
    EXECUTE FUNCTION analytics_mark_message();
CREATE TRIGGER analytics_message_update AFTER UPDATE ON messages FOR EACH ROW
    WHEN ((OLD.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00') OR NEW.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00'))
          AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.error_code IS DISTINCT FROM NEW.error_code
               OR (OLD.sent_at IS NULL) <> (NEW.sent_at IS NULL) OR OLD.segments <> NEW.segments
               OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id OR OLD.brand_id <> NEW.brand_id
               OR OLD.created_at <> NEW.created_at OR OLD.direction <> NEW.direction
               OR OLD.purpose <> NEW.purpose OR OLD.origin <> NEW.origin))
    EXECUTE FUNCTION analytics_mark_message();
CREATE TRIGGER analytics_message_delete AFTER DELETE ON messages FOR EACH ROW
    WHEN (OLD.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00'))
    EXECUTE FUNCTION analytics_mark_message();
CREATE TRIGGER analytics_consent_insert AFTER INSERT ON consent_events FOR EACH ROW
    WHEN (NEW.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00'))
    EXECUTE FUNCTION analytics_mark_consent();
CREATE TRIGGER analytics_activity_insert AFTER INSERT ON conversation_activity FOR EACH ROW
    WHEN (NEW.kind = 'closed' AND NEW.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00'))
    EXECUTE FUNCTION analytics_mark_activity();
CREATE TRIGGER analytics_activity_update AFTER UPDATE ON conversation_activity FOR EACH ROW
    WHEN ((OLD.kind = 'closed' OR NEW.kind = 'closed')
          AND (OLD.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00') OR NEW.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00'))
          AND (OLD.conversation_id <> NEW.conversation_id OR OLD.kind <> NEW.kind OR OLD.created_at <> NEW.created_at))
    EXECUTE FUNCTION analytics_mark_activity();
CREATE TRIGGER analytics_activity_delete AFTER DELETE ON conversation_activity FOR EACH ROW
    WHEN (OLD.kind = 'closed' AND OLD.created_at < date_bin('15 minutes', now() - interval '2 minutes', timestamptz '1970-01-01 00:00:00+00'))
    EXECUTE FUNCTION analytics_mark_activity();

-- +goose Down
ALTER INDEX conversation_activity_created_brin RESET (autosummarize);
ALTER INDEX consent_events_created_brin RESET (autosummarize);
ALTER INDEX messages_created_brin RESET (autosummarize);
DROP TRIGGER analytics_activity_delete ON conversation_activity;
DROP TRIGGER analytics_activity_update ON conversation_activity;
DROP TRIGGER analytics_activity_insert ON conversation_activity;
DROP TRIGGER analytics_consent_insert ON consent_events;
DROP TRIGGER analytics_message_delete ON messages;
DROP TRIGGER analytics_message_update ON messages;
DROP TRIGGER analytics_message_insert ON messages;
DROP FUNCTION analytics_mark_activity();
DROP FUNCTION analytics_mark_consent();
DROP FUNCTION analytics_mark_message();
DROP TABLE analytics_dirty;
DROP TABLE analytics_waits;
DROP TABLE analytics_consent_slots;
DROP TABLE analytics_message_slots;
DROP TABLE analytics_state;
