-- Originals kept in the store (gateway/store/originals.py) so that every node of a PostgreSQL store reads them:
-- a file's bytes in chunks (never whole in memory), and one row per file written last, so a file is there
-- whole or not at all. Content-addressed: the same bytes are kept once.
CREATE TABLE original_chunks (
    sha256 TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
);
CREATE TABLE originals (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    chunks INTEGER NOT NULL,
    stored_at TEXT NOT NULL
);
