-- +goose Up
-- Parley's core schema: brands and their numbers, contacts (people) with their
-- phones, conversations keyed by (brand, contact), messages in both directions,
-- the append-only consent ledger, console users and API keys.

CREATE TABLE brands (
    id            bigserial PRIMARY KEY,
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name          text NOT NULL CHECK (name <> ''),
    timezone      text NOT NULL DEFAULT 'America/New_York',
    help_text     text NOT NULL DEFAULT '',
    -- Quiet hours for proactive and marketing texts, in minutes after local midnight.
    quiet_start   int  NOT NULL DEFAULT 480,   -- 08:00
    quiet_end     int  NOT NULL DEFAULT 1260,  -- 21:00
    marketing_cap int  NOT NULL DEFAULT 3,     -- marketing texts per phone per rolling 24 h
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A sender number belongs to exactly one brand; inbound texts find their brand by "To".
CREATE TABLE brand_numbers (
    number     text PRIMARY KEY,
    brand_id   bigint NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    mps        int NOT NULL DEFAULT 10 CHECK (mps > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX brand_numbers_brand ON brand_numbers (brand_id);

-- A contact is a person. merged_into is set when the contact was absorbed by a merge;
-- absorbed contacts keep their row so old references still resolve.
CREATE TABLE contacts (
    id          bigserial PRIMARY KEY,
    loyalty_id  text,
    name        text NOT NULL DEFAULT '',
    attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
    timezone    text NOT NULL DEFAULT '',
    merged_into bigint REFERENCES contacts(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_loyalty ON contacts (loyalty_id) WHERE loyalty_id IS NOT NULL AND merged_into IS NULL;

-- Each phone belongs to one contact. Phones are E.164, or a short code / alphanumeric
-- sender kept as received.
CREATE TABLE contact_phones (
    phone         text PRIMARY KEY,
    contact_id    bigint NOT NULL REFERENCES contacts(id),
    undeliverable boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_phones_contact ON contact_phones (contact_id);

CREATE TABLE contact_merges (
    id          bigserial PRIMARY KEY,
    survivor_id bigint NOT NULL REFERENCES contacts(id),
    absorbed_id bigint NOT NULL REFERENCES contacts(id),
    reason      text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'agent', 'marketer')),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each key is kept; the key itself is shown once.
CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- One conversation per (brand, contact): a closed one is reopened, never duplicated.
-- A conversation absorbed by a contact merge keeps its row (merged_into) so that
-- links to it still resolve; its messages move to the survivor.
CREATE TABLE conversations (
    id               bigserial PRIMARY KEY,
    brand_id         bigint NOT NULL REFERENCES brands(id),
    contact_id       bigint NOT NULL REFERENCES contacts(id),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'snoozed', 'closed')),
    assignee_id      bigint REFERENCES users(id),
    last_phone       text NOT NULL,          -- where replies go: the phone the customer last wrote from
    last_message_at  timestamptz NOT NULL DEFAULT now(),
    last_inbound_at  timestamptz,
    needs_attention  text NOT NULL DEFAULT '', -- non-empty: why a person should look (e.g. possible opt-out)
    merged_into      bigint REFERENCES conversations(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);
-- Every inbound text updates its conversation (last_message_at, last_phone).
-- None of those columns is indexed and pages keep free space (fillfactor), so
-- the update is a HOT update that touches no index. An inbox index on the
-- activity columns would cost an index write per text; add it only with the
-- console's queries to measure it against.
CREATE UNIQUE INDEX conversations_brand_contact ON conversations (brand_id, contact_id) WHERE merged_into IS NULL;
CREATE INDEX conversations_contact ON conversations (contact_id);

-- Messages in both directions. An inbound message is claimed by its unique twilio_sid,
-- which is what makes a repeated webhook delivery a no-op.
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    conversation_id bigint REFERENCES conversations(id),
    brand_id        bigint NOT NULL REFERENCES brands(id),
    direction       text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    body            text NOT NULL DEFAULT '',
    media           jsonb NOT NULL DEFAULT '[]'::jsonb,  -- [{"url", "content_type"}]
    from_number     text NOT NULL,
    to_number       text NOT NULL,
    status          text NOT NULL,
    twilio_sid      text UNIQUE,
    error_code      int,
    error_message   text NOT NULL DEFAULT '',
    purpose         text NOT NULL DEFAULT 'conversational' CHECK (purpose IN ('conversational', 'marketing')),
    origin          text NOT NULL DEFAULT 'customer', -- customer, agent, auto_reply, compliance, api, campaign, trigger
    segments        int NOT NULL DEFAULT 1,
    encoding        text NOT NULL DEFAULT 'GSM-7',
    extra           jsonb NOT NULL DEFAULT '{}'::jsonb, -- the other webhook fields (FromCity, NumSegments, ...)
    received_at     timestamptz,             -- when Twilio reached us (differs from created_at after a spool replay)
    -- The outbox: what the delivery engine needs to send an outbound row exactly once, at the right time.
    queue           text,                    -- asynq queue: replies, proactive or bulk
    origin_ref      text NOT NULL DEFAULT '', -- who/what sent it: user, campaign or trigger id, or the compliance kind (opt_out, opt_in, help)
    send_at         timestamptz,             -- not before this time (scheduled); NULL = now
    held_until      timestamptz,             -- quiet hours: when the window opens
    status_reason   text NOT NULL DEFAULT '', -- why suppressed, held, failed or unknown
    enqueued_at     timestamptz,             -- when its task reached the queue; NULL: the relay must enqueue it
    sending_at      timestamptz,             -- when a worker began the carrier call
    sent_at         timestamptz,             -- when the carrier accepted it
    attempts        int NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
-- The relay and the reconciler look only at unfinished outbound rows; the
-- relay's every-few-seconds sweep looks only at rows whose task never reached
-- the queue, which is almost always none, even with a campaign queued.
CREATE INDEX messages_outbox ON messages (status, id)
    WHERE direction = 'outbound' AND status IN ('queued', 'held', 'sending');
CREATE INDEX messages_unenqueued ON messages (id)
    WHERE direction = 'outbound' AND status IN ('queued', 'held') AND enqueued_at IS NULL;
-- The frequency cap counts a phone's recent marketing texts per brand.
CREATE INDEX messages_marketing_recent ON messages (brand_id, to_number, sending_at)
    WHERE direction = 'outbound' AND purpose = 'marketing' AND sending_at IS NOT NULL;

-- Status callbacks for a SID we do not know yet; applied when the SID appears.
CREATE TABLE pending_statuses (
    id            bigserial PRIMARY KEY,
    twilio_sid    text NOT NULL,
    message_id    bigint,
    status        text NOT NULL,
    error_code    int,
    error_message text NOT NULL DEFAULT '',
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_statuses_sid ON pending_statuses (twilio_sid);

-- The consent ledger: append-only, one row per event. The current state of a
-- (brand, phone, purpose) is its newest row.
CREATE TABLE consent_events (
    id         bigserial PRIMARY KEY,
    brand_id   bigint NOT NULL REFERENCES brands(id),
    phone      text NOT NULL,
    purpose    text NOT NULL CHECK (purpose IN ('marketing', 'conversational')),
    status     text NOT NULL CHECK (status IN ('opted_in', 'opted_out')),
    source     text NOT NULL CHECK (source IN ('keyword', 'api', 'import', 'agent', 'carrier', 'web_form')),
    evidence   text NOT NULL DEFAULT '',
    message_id bigint REFERENCES messages(id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_lookup ON consent_events (brand_id, phone, purpose, id DESC);

-- +goose StatementBegin
CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_events is append-only';
END $$;
-- +goose StatementEnd
CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

-- +goose Down
DROP TABLE consent_events, pending_statuses, messages, conversations, api_keys, users,
    contact_merges, contact_phones, contacts, brand_numbers, brands CASCADE;
DROP FUNCTION consent_events_append_only();
