-- +goose Up
-- An import's size and how far it has read, for a progress bar.
ALTER TABLE contact_imports
    ADD COLUMN size_bytes bigint NOT NULL DEFAULT 0,
    ADD COLUMN bytes_read bigint NOT NULL DEFAULT 0;
CREATE INDEX contact_imports_brand ON contact_imports (brand_id, id);

-- +goose Down
DROP INDEX contact_imports_brand;
ALTER TABLE contact_imports DROP COLUMN size_bytes, DROP COLUMN bytes_read;
