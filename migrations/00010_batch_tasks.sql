-- +goose Up
-- The asynq task id of the grouped send task that carries a message (a bulk
-- task takes up to 64 texts of one sender number), or NULL when the message
-- has a task of its own (its id). The relay asks the queue for this task
-- before it concludes that a waiting message has none. No default and no
-- index, so adding it rewrites nothing and costs the hot paths nothing.
ALTER TABLE messages ADD COLUMN task_key text;

-- +goose Down
ALTER TABLE messages DROP COLUMN task_key;
