-- +goose Up
-- Outbound webhooks: a brand subscribes its own URLs to events; every event
-- a subscription wants becomes one delivery row (the outbox), sent by a
-- worker task, retried with backoff for 24 hours and kept as the
-- subscription's delivery log.

CREATE TABLE webhooks (
    id         bigserial PRIMARY KEY,
    brand_id   bigint NOT NULL REFERENCES brands(id),
    url        text NOT NULL,
    events     text[] NOT NULL,
    secret     text NOT NULL, -- signs every delivery (HMAC-SHA256); shown once, on create
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz    -- deleted: its pending deliveries are cancelled, the log stays
);
CREATE INDEX webhooks_brand ON webhooks (brand_id, id) WHERE deleted_at IS NULL;

-- One event for one subscription. body is the exact JSON posted, so every
-- attempt signs the same bytes. conversation_id orders deliveries: one of a
-- conversation waits while an earlier one of the same subscription and
-- conversation is still pending.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES webhooks(id),
    event_id        text NOT NULL,
    type            text NOT NULL,
    conversation_id bigint, -- NULL: not ordered with anything
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        int NOT NULL DEFAULT 0,
    last_code       int,    -- the receiver's last HTTP status; NULL: no answer
    last_error      text NOT NULL DEFAULT '',
    next_at         timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
-- The ordering check and the sweep for deliveries whose task was lost.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, conversation_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
