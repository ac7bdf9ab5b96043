-- +goose Up
-- Double opt-in by text: the brand's opt-in keyword (settings:
-- opt_in_keyword, e.g. JOIN) is answered with a request to confirm
-- (a compliance reply, origin_ref 'join'); a START or YES from a phone that
-- is not opted out, within 24 hours of that request, records marketing
-- consent with the exchange as evidence and is answered with p_join_reply.
DROP FUNCTION receive_inbound(text, bigint, text, text, text, jsonb, jsonb, timestamptz, int, text, text, text, text, int, text,
    text, text, text, int, text, bigint, boolean, text, text);

-- +goose StatementBegin
CREATE FUNCTION receive_inbound(
    p_sid text, p_brand_id bigint, p_from text, p_to text, p_body text,
    p_media jsonb, p_extra jsonb, p_received_at timestamptz,
    p_segments int, p_encoding text,
    p_consent text, p_evidence text,
    p_reply_body text, p_reply_segments int, p_reply_encoding text,
    p_auto_body text, p_auto_kind text, p_auto_ref text, p_auto_segments int, p_auto_encoding text,
    p_auto_after bigint, p_auto_close boolean, p_attention text, p_activity text,
    p_join_reply text, p_join_segments int, p_join_encoding text,
    OUT message_id bigint, OUT conversation_id bigint, OUT contact_id bigint,
    OUT duplicate boolean, OUT reply_id bigint, OUT consent_changed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_undeliverable boolean;
    v_was_out boolean;
    v_status text;
    v_auto boolean := false;
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
        ELSIF p_join_reply IS NOT NULL
          AND coalesce((SELECT ce.status FROM consent_events ce WHERE ce.brand_id = p_brand_id AND ce.phone = p_from
                AND ce.purpose = 'marketing' ORDER BY ce.id DESC LIMIT 1), '') <> 'opted_in'
          AND EXISTS (SELECT 1 FROM messages jm WHERE jm.brand_id = p_brand_id AND jm.to_number = p_from
                AND jm.direction = 'outbound' AND jm.origin = 'compliance' AND jm.origin_ref = 'join'
                AND coalesce(jm.received_at, jm.created_at) > p_received_at - interval '24 hours') THEN
            -- The YES that confirms a double opt-in (the brand's opt-in
            -- keyword answered with a request to confirm, less than 24
            -- hours ago): marketing consent, with the exchange as evidence.
            INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence, message_id)
            SELECT p_brand_id, p_from, 'marketing', 'opted_in', 'keyword',
                   'double opt-in: confirmation request ' || jm.id || ' sent ' || to_char(coalesce(jm.received_at, jm.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                   || ', answered by ' || p_evidence, message_id
              FROM messages jm WHERE jm.brand_id = p_brand_id AND jm.to_number = p_from AND jm.direction = 'outbound'
               AND jm.origin = 'compliance' AND jm.origin_ref = 'join' ORDER BY jm.id DESC LIMIT 1;
            consent_changed := true;
            p_reply_body := p_join_reply;
            p_reply_segments := p_join_segments;
            p_reply_encoding := p_join_encoding;
        ELSE
            p_reply_body := NULL;
        END IF;
    ELSIF p_consent = 'maybe_opt_out' THEN
        UPDATE conversations SET needs_attention = 'possible opt-out: ' || left(p_body, 200)
         WHERE id = conversation_id;
    END IF;

    IF p_reply_body IS NOT NULL THEN
        -- received_at of a compliance answer is that of the text it answers,
        -- as for automated answers: a double opt-in's 24 hours are counted
        -- on the webhooks' clock.
        INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number,
                              status, purpose, origin, origin_ref, queue, segments, encoding, received_at)
        VALUES (conversation_id, p_brand_id, 'outbound', p_reply_body, p_to, p_from,
                'queued', 'conversational', 'compliance', p_consent, 'replies', p_reply_segments, p_reply_encoding, p_received_at)
        RETURNING id INTO reply_id;
    END IF;

    -- Routing's decision, made in Go from what it read before this
    -- transaction (internal/routing). It stands only if no automated text
    -- reached the conversation since that read (p_auto_after: the newest one
    -- it saw) and no compliance answer or consent change came first; else it
    -- is dropped, never doubled.
    IF p_auto_body IS NOT NULL AND reply_id IS NULL AND NOT consent_changed
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = receive_inbound.conversation_id
                        AND m.origin IN ('auto_reply', 'after_hours') AND m.id > coalesce(p_auto_after, 0)) THEN
        -- received_at of an automated answer is that of the text it answers:
        -- loop protection compares the two on one clock, a spool replay's too.
        INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number,
                              status, purpose, origin, origin_ref, queue, segments, encoding, received_at)
        VALUES (conversation_id, p_brand_id, 'outbound', p_auto_body, p_to, p_from,
                'queued', 'conversational', p_auto_kind, coalesce(p_auto_ref, ''), 'replies', p_auto_segments, p_auto_encoding,
                p_received_at)
        RETURNING id INTO reply_id;
        v_auto := true;
        IF p_auto_close THEN
            -- The answer settles it: closed unless the customer writes again.
            -- answered_at stays: no person answered (response targets and
            -- figures count a person's answers only).
            UPDATE conversations SET status = 'closed', waiting_since = NULL
             WHERE id = conversation_id;
        END IF;
    END IF;
    IF p_attention IS NOT NULL THEN
        UPDATE conversations SET needs_attention = p_attention WHERE id = conversation_id AND needs_attention = '';
    END IF;
    IF p_activity IS NOT NULL THEN
        INSERT INTO conversation_activity (conversation_id, kind, detail)
        VALUES (conversation_id, CASE WHEN v_auto THEN 'auto_replied' ELSE 'automation_withheld' END,
                CASE WHEN NOT v_auto AND p_auto_body IS NOT NULL THEN 'no automated answer: a compliance answer or another automated text came first' ELSE p_activity END);
    END IF;

END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION receive_inbound(text, bigint, text, text, text, jsonb, jsonb, timestamptz, int, text, text, text, text, int, text,
    text, text, text, int, text, bigint, boolean, text, text, text, int, text);

-- +goose StatementBegin
CREATE FUNCTION receive_inbound(
    p_sid text, p_brand_id bigint, p_from text, p_to text, p_body text,
    p_media jsonb, p_extra jsonb, p_received_at timestamptz,
    p_segments int, p_encoding text,
    p_consent text, p_evidence text,
    p_reply_body text, p_reply_segments int, p_reply_encoding text,
    p_auto_body text, p_auto_kind text, p_auto_ref text, p_auto_segments int, p_auto_encoding text,
    p_auto_after bigint, p_auto_close boolean, p_attention text, p_activity text,
    OUT message_id bigint, OUT conversation_id bigint, OUT contact_id bigint,
    OUT duplicate boolean, OUT reply_id bigint, OUT consent_changed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_undeliverable boolean;
    v_was_out boolean;
    v_status text;
    v_auto boolean := false;
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

    -- Routing's decision, made in Go from what it read before this
    -- transaction (internal/routing). It stands only if no automated text
    -- reached the conversation since that read (p_auto_after: the newest one
    -- it saw) and no compliance answer or consent change came first; else it
    -- is dropped, never doubled.
    IF p_auto_body IS NOT NULL AND reply_id IS NULL AND NOT consent_changed
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = receive_inbound.conversation_id
                        AND m.origin IN ('auto_reply', 'after_hours') AND m.id > coalesce(p_auto_after, 0)) THEN
        -- received_at of an automated answer is that of the text it answers:
        -- loop protection compares the two on one clock, a spool replay's too.
        INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number,
                              status, purpose, origin, origin_ref, queue, segments, encoding, received_at)
        VALUES (conversation_id, p_brand_id, 'outbound', p_auto_body, p_to, p_from,
                'queued', 'conversational', p_auto_kind, coalesce(p_auto_ref, ''), 'replies', p_auto_segments, p_auto_encoding,
                p_received_at)
        RETURNING id INTO reply_id;
        v_auto := true;
        IF p_auto_close THEN
            -- The answer settles it: closed unless the customer writes again.
            -- answered_at stays: no person answered (response targets and
            -- figures count a person's answers only).
            UPDATE conversations SET status = 'closed', waiting_since = NULL
             WHERE id = conversation_id;
        END IF;
    END IF;
    IF p_attention IS NOT NULL THEN
        UPDATE conversations SET needs_attention = p_attention WHERE id = conversation_id AND needs_attention = '';
    END IF;
    IF p_activity IS NOT NULL THEN
        INSERT INTO conversation_activity (conversation_id, kind, detail)
        VALUES (conversation_id, CASE WHEN v_auto THEN 'auto_replied' ELSE 'automation_withheld' END,
                CASE WHEN NOT v_auto AND p_auto_body IS NOT NULL THEN 'no automated answer: a compliance answer or another automated text came first' ELSE p_activity END);
    END IF;

END $$;
-- +goose StatementEnd
