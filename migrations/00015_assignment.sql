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
-- Each agent's load (open conversations) for the dispatcher. Inbound texts
-- to an open conversation change neither column, so their updates stay HOT;
-- only a reopening touches it.
CREATE INDEX conversations_assignee_open ON conversations (assignee_id) WHERE status = 'open' AND merged_into IS NULL;

-- Waits whose missed target is not recorded yet, in inbox order: a pass of
-- a brand that assigns by hand reads only these (inbound texts to a
-- waiting conversation change none of the columns, so they stay HOT).
CREATE INDEX conversations_unbreached ON conversations (inbox_key(waiting_since, answered_at, created_at), id)
    WHERE merged_into IS NULL AND waiting_since IS NOT NULL AND sla_breached_wait IS DISTINCT FROM waiting_since;
-- The agent who last answered a conversation (sticky assignment); inbound
-- texts and other replies never enter it.
CREATE INDEX messages_agent ON messages (conversation_id, id) WHERE origin = 'agent';

-- +goose Down
DROP INDEX messages_agent;
DROP INDEX conversations_unbreached;
DROP INDEX conversations_assignee_open;
ALTER TABLE conversations DROP COLUMN sla_breached_wait;
ALTER TABLE conversations DROP COLUMN assigned_at;
ALTER TABLE users DROP COLUMN capacity;
