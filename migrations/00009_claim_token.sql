-- +goose Up
-- The token of the grouped claim that moved a message to sending. A claim is
-- given back (sending → queued) only by the claimer that made it, identified
-- by its token: a give-back that arrives late (a retried statement, a claim
-- whose answer was lost) can then never undo a newer claim of another worker,
-- which would let that worker's text be sent a second time. No default and
-- no index, so adding it rewrites nothing and costs the hot paths nothing.
ALTER TABLE messages ADD COLUMN claim_token bigint;

-- +goose Down
ALTER TABLE messages DROP COLUMN claim_token;
