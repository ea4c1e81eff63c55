-- Leases (gateway/lease.py): which node runs the pipeline of a store shared by several nodes. expires_at is in
-- seconds since the epoch by the DATABASE's clock, so clock skew between nodes does not matter.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL,
    acquired_at TEXT NOT NULL
);
