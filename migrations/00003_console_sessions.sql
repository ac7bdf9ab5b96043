-- +goose Up
-- Console sessions live on the server: the browser holds only a random token,
-- and the row keeps the SHA-256 of it, the CSRF token, and both expiries.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL -- absolute expiry; idle expiry is judged from last_seen_at
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, counted per account and per address to throttle guessing.
CREATE TABLE login_failures (
    id      bigserial PRIMARY KEY,
    email   text NOT NULL,
    address text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- +goose Down
DROP TABLE login_failures, sessions;
