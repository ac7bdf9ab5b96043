-- +goose Up
-- A brand's default country: the country of a phone number written without
-- one (no "+…") in an import, the API or the console.
ALTER TABLE brands ADD COLUMN default_country text NOT NULL DEFAULT 'US'
    CHECK (default_country ~ '^[A-Z]{2}$');

-- +goose Down
ALTER TABLE brands DROP COLUMN default_country;
