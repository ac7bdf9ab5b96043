-- +goose Up
-- The relationship figures read a period's proactive texts and questions
-- by brand and time: these two indexes answer them from the proactive
-- tables (a few rows per customer), never from messages.
CREATE INDEX trigger_runs_brand_sent ON trigger_runs (brand_id, done_at) WHERE state = 'sent';
CREATE INDEX question_asks_brand_asked ON question_asks (brand_id, asked_at);

-- A brand's customer base as of the last engagement scoring (every 5
-- minutes, store.RefreshEngagement): a page reads one row, where counting
-- a million customers' scores and conversations would take it hundreds of
-- milliseconds.
CREATE TABLE engagement_summary (
    brand_id           bigint PRIMARY KEY,
    customers          int NOT NULL,    -- scored: wrote in the last 90 days
    repeat_customers   int NOT NULL,    -- wrote at least twice
    texts              bigint NOT NULL, -- their texts in 90 days
    power_users        int NOT NULL,    -- the top tenth by score
    power_user_texts   bigint NOT NULL,
    open_conversations int NOT NULL,
    computed_at        timestamptz NOT NULL
);

-- +goose Down
DROP TABLE engagement_summary;
DROP INDEX question_asks_brand_asked;
DROP INDEX trigger_runs_brand_sent;
