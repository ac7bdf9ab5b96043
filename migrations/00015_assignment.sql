-- +goose Up
-- Automatic assignment: how many open conversations each person takes at
-- most (0: never assigned automatically), and when a conversation was
-- given to its assignee (reassignment counts from it). No new column is
-- indexed, so an inbound text's update of its conversation stays HOT.
ALTER TABLE users ADD COLUMN capacity int NOT NULL DEFAULT 10 CHECK (capacity BETWEEN 0 AND 1000);
ALTER TABLE conversations ADD COLUMN assigned_at timestamptz;
-- The wait whose response target was missed (its waiting_since), so that a
-- breach is recorded and announced once per wait.
ALTER TABLE conversations ADD COLUMN sla_breached_wait timestamptz;
UPDATE conversations SET assigned_at = updated_at WHERE assignee_id IS NOT NULL;

-- +goose Down
ALTER TABLE conversations DROP COLUMN sla_breached_wait;
ALTER TABLE conversations DROP COLUMN assigned_at;
ALTER TABLE users DROP COLUMN capacity;
