-- +goose Up
-- What an API key may touch: every brand, or exactly the brands listed (a
-- key left with none touches nothing — "all" is never implied by an empty
-- list); every scope, or the ones listed; and its request rate (requests per
-- second, burst twice that), shared by every process through Redis.
ALTER TABLE api_keys
    ADD COLUMN all_brands boolean NOT NULL DEFAULT true,
    ADD COLUMN brand_ids  bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN all_scopes boolean NOT NULL DEFAULT true,
    ADD COLUMN scopes     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN rate       int NOT NULL DEFAULT 100 CHECK (rate > 0);

-- +goose Down
ALTER TABLE api_keys DROP COLUMN all_brands, DROP COLUMN brand_ids, DROP COLUMN all_scopes, DROP COLUMN scopes, DROP COLUMN rate;
