-- +goose Up
-- What the agents' console keeps: who may see which brand, presence, the
-- inbox's waiting clock, snoozes, labels, notes, read markers, activity,
-- and canned responses.

ALTER TABLE users
    ADD COLUMN name        text NOT NULL DEFAULT '',
    ADD COLUMN presence    text NOT NULL DEFAULT 'offline' CHECK (presence IN ('online', 'away', 'offline')),
    ADD COLUMN presence_at timestamptz;

-- A user with no rows here sees every brand (a single-brand install needs no
-- setup); with rows, only those brands. Admins always see every brand.
CREATE TABLE user_brands (
    user_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    brand_id bigint NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, brand_id)
);

-- First-response target: a conversation waiting longer is flagged in the inbox.
ALTER TABLE brands ADD COLUMN sla_minutes int NOT NULL DEFAULT 15 CHECK (sla_minutes BETWEEN 1 AND 10080);

ALTER TABLE conversations
    -- Since when the customer has been waiting for a person: set by the first
    -- inbound text after the last agent reply, cleared by a reply or a close.
    ADD COLUMN waiting_since timestamptz,
    ADD COLUMN snoozed_until timestamptz,
    ADD COLUMN labels        text[] NOT NULL DEFAULT '{}';

-- The waiting clock follows last_inbound_at without receive_inbound() having
-- to know about it; a BEFORE trigger changes the row being written, so it
-- costs no second update.
-- +goose StatementBegin
CREATE FUNCTION conversations_waiting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_inbound_at IS NOT NULL AND NEW.waiting_since IS NULL
       AND (TG_OP = 'INSERT' OR NEW.last_inbound_at IS DISTINCT FROM OLD.last_inbound_at) THEN
        NEW.waiting_since := NEW.last_inbound_at;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER conversations_waiting BEFORE INSERT OR UPDATE OF last_inbound_at ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_waiting();
UPDATE conversations c SET waiting_since = c.last_inbound_at
 WHERE c.status <> 'closed' AND c.last_inbound_at IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'outbound'
                    AND m.origin = 'agent' AND m.created_at > c.last_inbound_at);

-- Internal notes: seen by agents, never sent.
CREATE TABLE conversation_notes (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations(id),
    author_id       bigint REFERENCES users(id) ON DELETE SET NULL,
    body            text NOT NULL CHECK (body <> '' AND length(body) <= 4000),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, id);

-- What people did to a conversation (assigned, closed, snoozed, labelled),
-- shown in its history.
CREATE TABLE conversation_activity (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations(id),
    actor_id        bigint REFERENCES users(id) ON DELETE SET NULL,
    kind            text NOT NULL,
    detail          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_activity_conversation ON conversation_activity (conversation_id, id);

-- Unread markers: when each agent last opened each conversation.
CREATE TABLE conversation_reads (
    user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id bigint NOT NULL REFERENCES conversations(id),
    read_at         timestamptz NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);

-- Canned responses: text/template bodies ({{.FirstName}}) agents insert into
-- the reply box; brand_id NULL means every brand.
CREATE TABLE canned_responses (
    id         bigserial PRIMARY KEY,
    brand_id   bigint REFERENCES brands(id) ON DELETE CASCADE,
    title      text NOT NULL CHECK (title <> '' AND length(title) <= 100),
    body       text NOT NULL CHECK (body <> '' AND length(body) <= 1600),
    created_by bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX canned_responses_title ON canned_responses (coalesce(brand_id, 0), lower(title));

-- +goose Down
DROP TABLE canned_responses, conversation_reads, conversation_activity, conversation_notes, user_brands;
DROP TRIGGER conversations_waiting ON conversations;
DROP FUNCTION conversations_waiting;
ALTER TABLE conversations DROP COLUMN waiting_since, DROP COLUMN snoozed_until, DROP COLUMN labels;
ALTER TABLE brands DROP COLUMN sla_minutes;
ALTER TABLE users DROP COLUMN name, DROP COLUMN presence, DROP COLUMN presence_at;
