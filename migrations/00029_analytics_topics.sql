-- +goose Up
-- Topics rollup (issue 13): how many of a brand's customer texts of each
-- local day hold each term and two-word phrase, so the topics of a period
-- read a few thousand rows a day instead of tokenising every text on every
-- page load.
--
-- Days, not slots: a slot holds hundreds of distinct terms, so a week of
-- 15-minute slots would be a million rows to sum. A day is cut in the
-- brand's zone as the fold found it (analytics_topic_zones); a brand whose
-- zone changes is refolded in the new one at the next pass, and read raw
-- until then.
--
-- The same pass that folds the other rollups (store.RefreshAnalytics)
-- folds the texts before its watermark into these rows, terms counted by
-- analytics.Terms in Go; nothing here runs on the inbound path. A change
-- to the customer texts of a folded slot (a text spooled during an outage
-- stored later with its old time, a deleted text) is logged in
-- analytics_dirty with texts set (below); the pass recounts that day from
-- the raw rows, and a read that finds such a day not yet recounted reads
-- the whole period raw. A status callback or a merge, which change no
-- words, leaves texts false.
--
-- A busy day's long tail is pruned: past store.TopicPruneAt terms a day
-- keeps its store.TopicKeep most frequent, and cutoff records the most
-- texts any pruned term had that day, so a stored count is short of the
-- true one by at most the sum of the period's cutoffs (0 for a day never
-- pruned: exact).
CREATE TABLE analytics_topic_days (
    brand_id bigint NOT NULL,
    day      date NOT NULL,
    term     text NOT NULL,
    texts    int NOT NULL,
    examples bigint[] NOT NULL, -- the first texts holding the term (message ids, oldest first)
    PRIMARY KEY (brand_id, day, term)
);

CREATE TABLE analytics_topic_totals (
    brand_id bigint NOT NULL,
    day      date NOT NULL,
    texts    int NOT NULL,          -- texts counted into the day
    cutoff   int NOT NULL DEFAULT 0,
    PRIMARY KEY (brand_id, day)
);

CREATE TABLE analytics_topic_zones (
    brand_id bigint PRIMARY KEY,
    zone     text NOT NULL
);

-- Whether a logged change may have changed a slot's customer texts (an
-- inbound text stored, deleted or moved in time or between brands): the
-- function of 00027 with texts set.
ALTER TABLE analytics_dirty ADD COLUMN texts boolean NOT NULL DEFAULT false;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION analytics_mark_message() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    f timestamptz;
    moved boolean;
    shifted boolean;
BEGIN
    SELECT folded_to INTO f FROM analytics_state WHERE id = 1 FOR SHARE;
    moved := TG_OP <> 'UPDATE' OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id;
    shifted := TG_OP <> 'UPDATE' OR OLD.brand_id <> NEW.brand_id OR OLD.created_at <> NEW.created_at
               OR OLD.direction <> NEW.direction;
    IF TG_OP <> 'INSERT' AND OLD.created_at < f THEN
        INSERT INTO analytics_dirty (kind, brand_id, slot, conversation_id, texts)
        VALUES ('message', OLD.brand_id, date_bin('15 minutes', OLD.created_at, timestamptz '1970-01-01 00:00:00+00'),
                CASE WHEN moved THEN OLD.conversation_id END, OLD.direction = 'inbound' AND shifted);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.created_at < f
       AND (TG_OP = 'INSERT' OR moved OR NEW.brand_id <> OLD.brand_id OR NEW.created_at <> OLD.created_at) THEN
        INSERT INTO analytics_dirty (kind, brand_id, slot, conversation_id, texts)
        VALUES ('message', NEW.brand_id, date_bin('15 minutes', NEW.created_at, timestamptz '1970-01-01 00:00:00+00'),
                CASE WHEN moved THEN NEW.conversation_id END, NEW.direction = 'inbound' AND shifted);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION analytics_mark_message() RETURNS trigger LANGUAGE plpgsql AS $$
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
ALTER TABLE analytics_dirty DROP COLUMN texts;
DROP TABLE analytics_topic_zones;
DROP TABLE analytics_topic_totals;
DROP TABLE analytics_topic_days;
