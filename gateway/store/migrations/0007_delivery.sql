-- Delivery: ordering groups, lifetime attempts (an operator retry resets `attempts`) and dead letters.
-- group_key: deliveries of one business group (one pedimento, one UUID; the parts of one file) go out in seq order.
-- Rows enqueued before this migration keep seq 0: no order among them, as before. Portable SQL (SQLite, PostgreSQL).
ALTER TABLE outbox ADD COLUMN group_key TEXT;
ALTER TABLE outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN total_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN dead_letters INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET total_attempts = attempts, dead_letters = CASE WHEN state = 'dead' THEN 1 ELSE 0 END,
    group_key = (SELECT COALESCE(d.business_key, d.parent_id) FROM documents d WHERE d.id = outbox.document_id);
CREATE INDEX outbox_group ON outbox (sink, group_key, state, seq);
