-- +goose Up
-- A merge made by a person in the console (linking a customer to a loyalty
-- member) records who made it, so that an admin can undo it within 7 days;
-- an undone merge keeps its row with who undid it and when.
ALTER TABLE contact_merges
    ADD COLUMN made_by   bigint REFERENCES users(id) ON DELETE SET NULL,
    ADD COLUMN by_person boolean NOT NULL DEFAULT false,
    ADD COLUMN undone_at timestamptz,
    ADD COLUMN undone_by bigint REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX contact_merges_by_person ON contact_merges (created_at DESC, id DESC) WHERE by_person;
CREATE INDEX contact_merges_survivor ON contact_merges (survivor_id);
CREATE INDEX contact_merges_absorbed ON contact_merges (absorbed_id);

-- +goose Down
DROP INDEX contact_merges_absorbed;
DROP INDEX contact_merges_survivor;
DROP INDEX contact_merges_by_person;
ALTER TABLE contact_merges DROP COLUMN undone_by, DROP COLUMN undone_at, DROP COLUMN by_person, DROP COLUMN made_by;
