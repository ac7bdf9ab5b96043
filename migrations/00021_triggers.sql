-- +goose Up
-- Proactive one-to-one texts: brands post events, trigger rules turn the
-- matching ones into scheduled runs, a runner in every worker sends them
-- when due; a text may ask a question whose answer is the customer's next
-- text.

-- A question a text asks. Kept apart from what asks it, so a trigger's
-- edits keep its question's results.
CREATE TABLE questions (
    id             bigserial PRIMARY KEY,
    brand_id       bigint NOT NULL REFERENCES brands(id),
    kind           text NOT NULL CHECK (kind IN ('rating', 'nps', 'yes_no', 'choice', 'free_text')),
    scale          int NOT NULL DEFAULT 0,
    choices        jsonb NOT NULL DEFAULT '[]'::jsonb,
    window_seconds bigint NOT NULL DEFAULT 172800,
    follow_ups     jsonb NOT NULL DEFAULT '{}'::jsonb, -- {"positive", "negative", "unparsed", "<value>": text}
    no_is_negative boolean NOT NULL DEFAULT false,     -- yes_no: a "no" calls for a person
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- A rule: an event type (or, for a date rule, a contact date attribute)
-- and the document it was saved with (conditions, delay, template, purpose,
-- cooldown, expiry), kept as given so the API returns it unchanged.
CREATE TABLE triggers (
    id             bigserial PRIMARY KEY,
    brand_id       bigint NOT NULL REFERENCES brands(id),
    name           text NOT NULL DEFAULT '',
    event_type     text NOT NULL DEFAULT '', -- '' for a date rule
    date_attribute text NOT NULL DEFAULT '', -- a date rule's attribute
    spec           jsonb NOT NULL,
    question_id    bigint REFERENCES questions(id),
    enabled        boolean NOT NULL DEFAULT true,
    deleted_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX triggers_brand ON triggers (brand_id, id) WHERE deleted_at IS NULL;

-- What happened to a customer, as the brand told it. An idempotency key
-- makes a repeated post the same event.
--
-- events and trigger_runs take thousands of rows a second and declare no
-- foreign keys: a key is checked by a query per row (about 15 µs each, six
-- per event with its run), which halved the ingestion rate. Their ids come
-- from the rows they name, read in the same request, and no contact, brand
-- or rule row is ever deleted (rules are retired with deleted_at).
CREATE TABLE events (
    id              bigserial PRIMARY KEY,
    brand_id        bigint NOT NULL,
    type            text NOT NULL,
    contact_id      bigint NOT NULL,
    occurred_at     timestamptz NOT NULL,
    data            jsonb NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key text,
    matched         int NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX events_key ON events (brand_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_contact ON events (contact_id, id);

-- One text a rule means to send to one person: for an event, or for one
-- occurrence of a date rule (the unique indexes make each happen once).
CREATE TABLE trigger_runs (
    id          bigserial PRIMARY KEY,
    trigger_id  bigint NOT NULL,
    brand_id    bigint NOT NULL,
    contact_id  bigint NOT NULL,
    event_id    bigint,
    occurrence  text NOT NULL DEFAULT '', -- a date rule's day ('2026-12-25')
    due_at      timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'sent', 'skipped', 'dropped')),
    reason      text NOT NULL DEFAULT '', -- why skipped or dropped: expired, cooldown, open_question, opted_out…
    detail      text NOT NULL DEFAULT '', -- the reason in words ("arrived 3 days late")
    message_id  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
-- An event's runs are inserted with the event, once: its idempotency key
-- is the guarantee, so runs need no unique index of their own for events.
CREATE UNIQUE INDEX trigger_runs_occurrence ON trigger_runs (trigger_id, contact_id, occurrence) WHERE occurrence <> '';
CREATE INDEX trigger_runs_due ON trigger_runs (due_at, id) WHERE state = 'scheduled';
CREATE INDEX trigger_runs_sent ON trigger_runs (trigger_id, contact_id, done_at) WHERE state = 'sent';
CREATE INDEX trigger_runs_trigger ON trigger_runs (trigger_id, id);

-- A question asked of one person, and its answer.
CREATE TABLE question_asks (
    id               bigserial PRIMARY KEY,
    question_id      bigint NOT NULL REFERENCES questions(id),
    brand_id         bigint NOT NULL REFERENCES brands(id),
    contact_id       bigint NOT NULL REFERENCES contacts(id),
    conversation_id  bigint NOT NULL REFERENCES conversations(id),
    message_id       bigint NOT NULL REFERENCES messages(id), -- the text that asked
    trigger_id       bigint REFERENCES triggers(id),
    origin           text NOT NULL DEFAULT 'trigger',         -- trigger, campaign, agent, csat
    asked_at         timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'replied', 'answered', 'expired', 'closed')),
    reply_message_id bigint REFERENCES messages(id),
    parsed           boolean,
    value            int,
    choice           text NOT NULL DEFAULT '',
    comment          text NOT NULL DEFAULT '',
    answer_text      text NOT NULL DEFAULT '',
    negative         text NOT NULL DEFAULT '', -- low_rating, negative_answer
    answered_at      timestamptz
);
CREATE INDEX question_asks_open ON question_asks (conversation_id, id) WHERE state = 'open';
CREATE INDEX question_asks_open_contact ON question_asks (contact_id) WHERE state = 'open';
CREATE INDEX question_asks_replied ON question_asks (id) WHERE state = 'replied';
CREATE INDEX question_asks_question ON question_asks (question_id, id);
CREATE INDEX question_asks_contact ON question_asks (contact_id, id);

-- Service recovery: an unhappy answer puts its conversation first, with
-- the reason shown.
ALTER TABLE conversations ADD COLUMN priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'high')),
    ADD COLUMN priority_reason text NOT NULL DEFAULT '';

-- The customer's next text after a question's text went is its answer:
-- marked here, in the transaction that stores the text, and read by the
-- answer processor (which also lets compliance keywords win). Only the
-- newest open question of the conversation is answered, and only once its
-- text has been accepted by the carrier. With no open question this is one
-- probe of an empty partial index.
-- +goose StatementBegin
CREATE FUNCTION mark_question_reply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The common case, no question open, costs one probe and no UPDATE.
    IF NOT EXISTS (SELECT 1 FROM question_asks WHERE conversation_id = NEW.conversation_id AND state = 'open') THEN
        RETURN NULL;
    END IF;
    UPDATE question_asks SET state = 'replied', reply_message_id = NEW.id
     WHERE id = (SELECT a.id FROM question_asks a JOIN messages q ON q.id = a.message_id
                  WHERE a.conversation_id = NEW.conversation_id AND a.state = 'open'
                    AND a.expires_at > NEW.created_at AND q.sent_at IS NOT NULL
                  ORDER BY a.id DESC LIMIT 1);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER messages_question_reply AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.direction = 'inbound' AND NEW.conversation_id IS NOT NULL)
    EXECUTE FUNCTION mark_question_reply();

-- +goose Down
DROP TRIGGER messages_question_reply ON messages;
DROP FUNCTION mark_question_reply();
ALTER TABLE conversations DROP COLUMN priority_reason, DROP COLUMN priority;
DROP TABLE question_asks;
DROP TABLE trigger_runs;
DROP TABLE events;
DROP TABLE triggers;
DROP TABLE questions;
