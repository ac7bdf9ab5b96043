-- +goose Up
-- Campaigns: saved audiences (segments), the campaigns themselves, one row
-- per recipient (materialised when the campaign starts, the unit of
-- exactly-once: a recipient's message id is set in the transaction that
-- stores the text) and tracked links.
CREATE TABLE segments (
    id         bigserial PRIMARY KEY,
    brand_id   bigint NOT NULL REFERENCES brands(id),
    name       text NOT NULL,
    filter     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX segments_brand ON segments (brand_id, id);

CREATE TABLE campaigns (
    id             bigserial PRIMARY KEY,
    brand_id       bigint NOT NULL REFERENCES brands(id),
    name           text NOT NULL,
    variants       jsonb NOT NULL,                 -- ["body", …]: one to four templates
    audience       jsonb NOT NULL DEFAULT '{}'::jsonb,
    numbers        text[] NOT NULL DEFAULT '{}',   -- sender numbers; empty: every number of the brand
    track_links    boolean NOT NULL DEFAULT false,
    state          text NOT NULL DEFAULT 'draft'
                   CHECK (state IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'canceled')),
    state_reason   text NOT NULL DEFAULT '',
    scheduled_at   timestamptz,
    local_time     text NOT NULL DEFAULT '',       -- "10:00": each recipient at that time in their own zone
    fail_threshold real NOT NULL DEFAULT 0.2,      -- pause when more than this share of sends fail
    created_by     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    completed_at   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_brand ON campaigns (brand_id, id);
CREATE INDEX campaigns_active ON campaigns (id) WHERE state IN ('scheduled', 'running');

CREATE TABLE campaign_recipients (
    campaign_id bigint NOT NULL REFERENCES campaigns(id),
    contact_id  bigint NOT NULL REFERENCES contacts(id),
    phone       text NOT NULL,
    variant     smallint NOT NULL DEFAULT 0,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued', 'skipped', 'canceled')),
    message_id  bigint REFERENCES messages(id),
    reason      text NOT NULL DEFAULT '',
    PRIMARY KEY (campaign_id, contact_id)
);
CREATE INDEX campaign_recipients_pending ON campaign_recipients (campaign_id, contact_id) WHERE state = 'pending';
CREATE UNIQUE INDEX campaign_recipients_message ON campaign_recipients (message_id);

CREATE TABLE campaign_links (
    code            text PRIMARY KEY,
    campaign_id     bigint NOT NULL REFERENCES campaigns(id),
    contact_id      bigint NOT NULL,
    variant         smallint NOT NULL DEFAULT 0,
    url             text NOT NULL,
    clicks          int NOT NULL DEFAULT 0,
    first_click_at  timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_links_campaign ON campaign_links (campaign_id);

-- A campaign's unfinished texts (origin_ref is its id), for pause, resume,
-- cancel, the send window and completion. Inbound texts are never in it.
CREATE INDEX messages_campaign_open ON messages (origin_ref, id)
    WHERE origin = 'campaign' AND status IN ('queued', 'held', 'sending');

-- +goose Down
DROP INDEX messages_campaign_open;
DROP TABLE campaign_links, campaign_recipients, campaigns, segments;
