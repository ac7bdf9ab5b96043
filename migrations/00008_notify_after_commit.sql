-- +goose Up
-- receive_inbound no longer calls pg_notify: the inbound pipeline notifies the
-- consoles itself, right after its batch commits (store.ReceiveInbound's
-- caller, through Store.NotifyConversations).
--
-- Why: at commit, Postgres serialises every transaction that has called NOTIFY
-- on one lock for the whole server (it keeps the notification queue in commit
-- order) and holds it until the commit record is flushed. With the notify
-- inside the batch, two batches could never flush their WAL at the same time,
-- and they also queued behind every other notifying transaction on the server:
-- sampled under load, that lock ("Lock: object") was the batchers' most
-- frequent wait, ahead of the WAL flush itself. Sent from a session that
-- commits asynchronously, after the durable commit, the lock is held for
-- microseconds. The notification only tells a console to refetch, so it going
-- out after the commit costs no guarantee: the text is stored before the 200
-- either way, and a console that missed an event (a crash between the commit
-- and the notify) is told to resync when its listener reconnects.
--
-- The body is otherwise the one of migration 00002.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION receive_inbound(
    p_sid text, p_brand_id bigint, p_from text, p_to text, p_body text,
    p_media jsonb, p_extra jsonb, p_received_at timestamptz,
    p_segments int, p_encoding text,
    p_consent text, p_evidence text,
    p_reply_body text, p_reply_segments int, p_reply_encoding text,
    OUT message_id bigint, OUT conversation_id bigint, OUT contact_id bigint,
    OUT duplicate boolean, OUT reply_id bigint, OUT consent_changed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_undeliverable boolean;
    v_was_out boolean;
    v_status text;
BEGIN
    duplicate := false;
    consent_changed := false;
    PERFORM pg_advisory_xact_lock(hashtextextended(p_from, 7));

    -- The same MessageSid always comes from the same phone, so with the phone
    -- lock held a repeated delivery sees the first one's committed row here.
    IF EXISTS (SELECT 1 FROM messages m WHERE m.twilio_sid = p_sid) THEN
        duplicate := true;
        RETURN;
    END IF;

    SELECT cp.contact_id, cp.undeliverable INTO contact_id, v_undeliverable FROM contact_phones cp WHERE cp.phone = p_from;
    IF v_undeliverable THEN
        -- The phone just texted us: whatever made a send fail once, it can
        -- receive texts now.
        UPDATE contact_phones SET undeliverable = false WHERE phone = p_from;
    END IF;
    IF contact_id IS NULL THEN
        INSERT INTO contacts DEFAULT VALUES RETURNING id INTO contact_id;
        INSERT INTO contact_phones (phone, contact_id) VALUES (p_from, contact_id);
    END IF;

    -- Reopen (or refresh) the conversation, or open one. Another phone of the
    -- same contact may be opening it in a concurrent transaction: the insert
    -- then waits for it and does nothing, and the second pass updates it.
    FOR attempt IN 1..2 LOOP
        UPDATE conversations c
           SET status = 'open', last_phone = p_from,
               last_message_at = greatest(c.last_message_at, p_received_at),
               last_inbound_at = greatest(coalesce(c.last_inbound_at, p_received_at), p_received_at),
               updated_at = now()
         WHERE c.brand_id = p_brand_id AND c.contact_id = receive_inbound.contact_id AND c.merged_into IS NULL
        RETURNING c.id INTO conversation_id;
        EXIT WHEN conversation_id IS NOT NULL;
        INSERT INTO conversations (brand_id, contact_id, last_phone, last_message_at, last_inbound_at)
        VALUES (p_brand_id, receive_inbound.contact_id, p_from, p_received_at, p_received_at)
        ON CONFLICT (brand_id, contact_id) WHERE merged_into IS NULL DO NOTHING
        RETURNING id INTO conversation_id;
        EXIT WHEN conversation_id IS NOT NULL;
    END LOOP;

    -- ON CONFLICT is the last line of defence (a SID reused from another phone):
    -- the unique index, not the check above, is what guarantees one row per SID.
    INSERT INTO messages (conversation_id, brand_id, direction, body, media, from_number, to_number, status,
                          twilio_sid, segments, encoding, extra, received_at, origin)
    VALUES (conversation_id, p_brand_id, 'inbound', p_body, p_media, p_from, p_to, 'received',
            p_sid, p_segments, p_encoding, p_extra, p_received_at, 'customer')
    ON CONFLICT (twilio_sid) DO NOTHING
    RETURNING id INTO message_id;
    IF message_id IS NULL THEN
        RAISE EXCEPTION 'MessageSid % already stored from another sender', p_sid USING ERRCODE = 'unique_violation';
    END IF;

    IF p_consent = 'opt_out' THEN
        SELECT ce.status = 'opted_out' INTO v_was_out FROM consent_events ce
         WHERE ce.brand_id = p_brand_id AND ce.phone = p_from AND ce.purpose = 'conversational'
         ORDER BY ce.id DESC LIMIT 1;
        v_was_out := coalesce(v_was_out, false);
        INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, message_id)
        VALUES (p_brand_id, p_from, 'conversational', 'opted_out', 'keyword', p_evidence, message_id),
               (p_brand_id, p_from, 'marketing', 'opted_out', 'keyword', p_evidence, message_id);
        consent_changed := NOT v_was_out;
        IF v_was_out THEN
            p_reply_body := NULL;
        END IF;
    ELSIF p_consent = 'opt_in' THEN
        -- START, YES and UNSTOP only mean "opt back in" from a phone that opted
        -- out. From anyone else (a "Yes" answering "shall I book it?") they are
        -- an ordinary message: no ledger row, no "resubscribed" reply.
        SELECT ce.status INTO v_status FROM consent_events ce
         WHERE ce.brand_id = p_brand_id AND ce.phone = p_from AND ce.purpose = 'conversational'
         ORDER BY ce.id DESC LIMIT 1;
        IF v_status = 'opted_out' THEN
            INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, message_id)
            VALUES (p_brand_id, p_from, 'conversational', 'opted_in', 'keyword', p_evidence, message_id);
            consent_changed := true;
        ELSE
            p_reply_body := NULL;
        END IF;
    ELSIF p_consent = 'maybe_opt_out' THEN
        UPDATE conversations SET needs_attention = 'possible opt-out: ' || left(p_body, 200)
         WHERE id = conversation_id;
    END IF;

    IF p_reply_body IS NOT NULL THEN
        INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number,
                              status, purpose, origin, origin_ref, queue, segments, encoding)
        VALUES (conversation_id, p_brand_id, 'outbound', p_reply_body, p_to, p_from,
                'queued', 'conversational', 'compliance', p_consent, 'replies', p_reply_segments, p_reply_encoding)
        RETURNING id INTO reply_id;
    END IF;

END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION receive_inbound(
    p_sid text, p_brand_id bigint, p_from text, p_to text, p_body text,
    p_media jsonb, p_extra jsonb, p_received_at timestamptz,
    p_segments int, p_encoding text,
    p_consent text, p_evidence text,
    p_reply_body text, p_reply_segments int, p_reply_encoding text,
    OUT message_id bigint, OUT conversation_id bigint, OUT contact_id bigint,
    OUT duplicate boolean, OUT reply_id bigint, OUT consent_changed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_undeliverable boolean;
    v_was_out boolean;
    v_status text;
BEGIN
    duplicate := false;
    consent_changed := false;
    PERFORM pg_advisory_xact_lock(hashtextextended(p_from, 7));

    -- The same MessageSid always comes from the same phone, so with the phone
    -- lock held a repeated delivery sees the first one's committed row here.
    IF EXISTS (SELECT 1 FROM messages m WHERE m.twilio_sid = p_sid) THEN
        duplicate := true;
        RETURN;
    END IF;

    SELECT cp.contact_id, cp.undeliverable INTO contact_id, v_undeliverable FROM contact_phones cp WHERE cp.phone = p_from;
    IF v_undeliverable THEN
        -- The phone just texted us: whatever made a send fail once, it can
        -- receive texts now.
        UPDATE contact_phones SET undeliverable = false WHERE phone = p_from;
    END IF;
    IF contact_id IS NULL THEN
        INSERT INTO contacts DEFAULT VALUES RETURNING id INTO contact_id;
        INSERT INTO contact_phones (phone, contact_id) VALUES (p_from, contact_id);
    END IF;

    -- Reopen (or refresh) the conversation, or open one. Another phone of the
    -- same contact may be opening it in a concurrent transaction: the insert
    -- then waits for it and does nothing, and the second pass updates it.
    FOR attempt IN 1..2 LOOP
        UPDATE conversations c
           SET status = 'open', last_phone = p_from,
               last_message_at = greatest(c.last_message_at, p_received_at),
               last_inbound_at = greatest(coalesce(c.last_inbound_at, p_received_at), p_received_at),
               updated_at = now()
         WHERE c.brand_id = p_brand_id AND c.contact_id = receive_inbound.contact_id AND c.merged_into IS NULL
        RETURNING c.id INTO conversation_id;
        EXIT WHEN conversation_id IS NOT NULL;
        INSERT INTO conversations (brand_id, contact_id, last_phone, last_message_at, last_inbound_at)
        VALUES (p_brand_id, receive_inbound.contact_id, p_from, p_received_at, p_received_at)
        ON CONFLICT (brand_id, contact_id) WHERE merged_into IS NULL DO NOTHING
        RETURNING id INTO conversation_id;
        EXIT WHEN conversation_id IS NOT NULL;
    END LOOP;

    -- ON CONFLICT is the last line of defence (a SID reused from another phone):
    -- the unique index, not the check above, is what guarantees one row per SID.
    INSERT INTO messages (conversation_id, brand_id, direction, body, media, from_number, to_number, status,
                          twilio_sid, segments, encoding, extra, received_at, origin)
    VALUES (conversation_id, p_brand_id, 'inbound', p_body, p_media, p_from, p_to, 'received',
            p_sid, p_segments, p_encoding, p_extra, p_received_at, 'customer')
    ON CONFLICT (twilio_sid) DO NOTHING
    RETURNING id INTO message_id;
    IF message_id IS NULL THEN
        RAISE EXCEPTION 'MessageSid % already stored from another sender', p_sid USING ERRCODE = 'unique_violation';
    END IF;

    IF p_consent = 'opt_out' THEN
        SELECT ce.status = 'opted_out' INTO v_was_out FROM consent_events ce
         WHERE ce.brand_id = p_brand_id AND ce.phone = p_from AND ce.purpose = 'conversational'
         ORDER BY ce.id DESC LIMIT 1;
        v_was_out := coalesce(v_was_out, false);
        INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, message_id)
        VALUES (p_brand_id, p_from, 'conversational', 'opted_out', 'keyword', p_evidence, message_id),
               (p_brand_id, p_from, 'marketing', 'opted_out', 'keyword', p_evidence, message_id);
        consent_changed := NOT v_was_out;
        IF v_was_out THEN
            p_reply_body := NULL;
        END IF;
    ELSIF p_consent = 'opt_in' THEN
        -- START, YES and UNSTOP only mean "opt back in" from a phone that opted
        -- out. From anyone else (a "Yes" answering "shall I book it?") they are
        -- an ordinary message: no ledger row, no "resubscribed" reply.
        SELECT ce.status INTO v_status FROM consent_events ce
         WHERE ce.brand_id = p_brand_id AND ce.phone = p_from AND ce.purpose = 'conversational'
         ORDER BY ce.id DESC LIMIT 1;
        IF v_status = 'opted_out' THEN
            INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, message_id)
            VALUES (p_brand_id, p_from, 'conversational', 'opted_in', 'keyword', p_evidence, message_id);
            consent_changed := true;
        ELSE
            p_reply_body := NULL;
        END IF;
    ELSIF p_consent = 'maybe_opt_out' THEN
        UPDATE conversations SET needs_attention = 'possible opt-out: ' || left(p_body, 200)
         WHERE id = conversation_id;
    END IF;

    IF p_reply_body IS NOT NULL THEN
        INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number,
                              status, purpose, origin, origin_ref, queue, segments, encoding)
        VALUES (conversation_id, p_brand_id, 'outbound', p_reply_body, p_to, p_from,
                'queued', 'conversational', 'compliance', p_consent, 'replies', p_reply_segments, p_reply_encoding)
        RETURNING id INTO reply_id;
    END IF;

    PERFORM pg_notify('parley_conversation', conversation_id::text);
END $$;
-- +goose StatementEnd
