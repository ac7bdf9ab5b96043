-- +goose Up
-- Idempotency keys of the JSON API: the first answer to a creating POST sent
-- with an Idempotency-Key header, kept for 24 hours so that a retry gets that
-- answer instead of doing the work again.
--
-- The primary key is the guarantee: a request first inserts its row with no
-- status ("in progress"), so of two identical requests arriving together only
-- one runs the handler; the other finds the row. Keys belong to one API key:
-- two integrations may pick the same key without meeting.
CREATE TABLE idempotency_keys (
    api_key_id   bigint NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    key          text NOT NULL,
    -- SHA-256 of method, path, query and body: the same key sent with another
    -- request is refused, not answered with the first request's answer.
    request_hash bytea NOT NULL,
    status       int,   -- NULL while the first request is in progress
    content_type text NOT NULL DEFAULT '',
    body         bytea NOT NULL DEFAULT '',
    -- When the request started. A row older than 24 h is expired: the next
    -- request with its key is new, and it is overwritten or pruned.
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);
-- Pruning finds expired rows oldest first.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
