-- +goose Up
-- The audit log: every person's action (console sign-in and sign-out,
-- failed sign-ins with the email tried, every console change) and every API
-- write with its key's name, appended once and never changed. Only the
-- retention pass may delete, and only rows older than its cutoff: it sets
-- parley.audit_prune for its own transaction, which nothing else does.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'anonymous', 'system')),
    actor      text NOT NULL,          -- the user's email, the key's name, or the email a failed sign-in tried
    actor_id   bigint,                 -- users.id or api_keys.id
    action     text NOT NULL,          -- login, logout, login_failed, reply, assign, close, … or api.<route>
    target     text NOT NULL DEFAULT '',  -- what it acted on, e.g. conversation:42
    brand_id   bigint,
    before     jsonb,
    after      jsonb,
    detail     jsonb NOT NULL DEFAULT '{}',
    status     int NOT NULL DEFAULT 0, -- the HTTP status of the action's answer
    ip         text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff text := current_setting('parley.audit_prune', true);
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF coalesce(cutoff, '') <> '' AND OLD.at < cutoff::timestamptz THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
