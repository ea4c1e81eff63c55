-- Delivery: ordering groups, lifetime attempts (operator retries reset `attempts`), the last response seen.
-- group_key: deliveries of one business group (one pedimento, the parts of one file) go out in seq order.
ALTER TABLE outbox ADD COLUMN group_key TEXT;
ALTER TABLE outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN total_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN dead_letters INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET total_attempts = attempts, dead_letters = CASE WHEN state = 'dead' THEN 1 ELSE 0 END;
UPDATE outbox SET seq = rowid;
CREATE INDEX outbox_group ON outbox (sink, group_key, state, seq);
