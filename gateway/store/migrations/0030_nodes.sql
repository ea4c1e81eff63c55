-- Several nodes on one store (gateway/nodes.py): work claimed by a node with an expiry by the DATABASE's clock,
-- the nodes' heartbeats (what the overview shows), and the node that made each audited transition.
CREATE TABLE claims (
    key TEXT PRIMARY KEY,
    node TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX claims_by_node ON claims (node);
CREATE TABLE nodes (
    node TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at REAL NOT NULL,
    sources TEXT NOT NULL DEFAULT ''
);
ALTER TABLE audit ADD COLUMN node TEXT;
