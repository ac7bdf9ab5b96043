-- +goose Up
-- The relationship figures read a period's proactive texts and questions
-- by brand and time: these two indexes answer them from the proactive
-- tables (a few rows per customer), never from messages.
CREATE INDEX trigger_runs_brand_sent ON trigger_runs (brand_id, done_at) WHERE state = 'sent';
CREATE INDEX question_asks_brand_asked ON question_asks (brand_id, asked_at);

-- +goose Down
DROP INDEX question_asks_brand_asked;
DROP INDEX trigger_runs_brand_sent;
