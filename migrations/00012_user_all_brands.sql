-- +goose Up
-- "Every brand" is stored, never inferred from an empty list: a user whose
-- last brand is removed (or deleted) sees no brand, not all of them. Users
-- with no brand listed until now saw every brand, and keep doing so.
ALTER TABLE users ADD COLUMN all_brands boolean NOT NULL DEFAULT true;
UPDATE users u SET all_brands = NOT EXISTS (SELECT 1 FROM user_brands ub WHERE ub.user_id = u.id);

-- +goose Down
ALTER TABLE users DROP COLUMN all_brands;
