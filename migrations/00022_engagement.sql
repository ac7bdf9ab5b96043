-- +goose Up
-- Power users: each customer's engagement with a brand, refreshed by one
-- instance every few minutes from the last 90 days of texts (never on a
-- page load): texts to the brand, replies to the brand's texts, response
-- rate, recency, and influence (an imported follower count), combined
-- into a score of 0 to 100 that ranks the power-users page and filters
-- segments (min_engagement).
CREATE TABLE engagement_scores (
    brand_id        bigint NOT NULL,
    contact_id      bigint NOT NULL,
    texts_in        int NOT NULL,     -- texts from them in 90 days
    replies         int NOT NULL,     -- of those, answers within 24 h of a text from the brand
    brand_texts     int NOT NULL,     -- texts the brand sent them in 90 days
    response_rate   real NOT NULL,    -- replies / brand texts (0 when none)
    last_inbound_at timestamptz,
    followers       bigint NOT NULL,  -- attributes.followers (or follower_count), 0 when unknown
    score           int NOT NULL,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brand_id, contact_id)
);
CREATE INDEX engagement_scores_rank ON engagement_scores (brand_id, score DESC, contact_id);

-- A campaign can ask a question: each of its texts asks it, and the results
-- are split by variant.
ALTER TABLE campaigns ADD COLUMN question_id bigint REFERENCES questions(id);

-- +goose Down
ALTER TABLE campaigns DROP COLUMN question_id;
DROP TABLE engagement_scores;
