-- +goose Up
-- Contact imports (CSV): progress and the rows refused, so the console and
-- the API can show an import as it runs and report what it skipped.
CREATE TABLE contact_imports (
    id          bigserial PRIMARY KEY,
    brand_id    bigint NOT NULL REFERENCES brands(id),
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
    filename    text NOT NULL DEFAULT '',
    rows_read   bigint NOT NULL DEFAULT 0,
    imported    bigint NOT NULL DEFAULT 0,
    created     bigint NOT NULL DEFAULT 0,
    skipped     bigint NOT NULL DEFAULT 0,
    failure     text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE TABLE contact_import_errors (
    import_id bigint NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
    line      bigint NOT NULL,
    reason    text NOT NULL,
    PRIMARY KEY (import_id, line)
);

-- +goose Down
DROP TABLE contact_import_errors, contact_imports;
