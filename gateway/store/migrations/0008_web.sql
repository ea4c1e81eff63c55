-- The web page and JSON API (serve): users and roles, API tokens for machines, the search keys of each
-- document (UUID, RFC, pedimento number read from its bytes), and indexes that keep the queue fast at
-- tens of thousands of rejected documents.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,                -- viewer | operator | admin
    password_hash TEXT NOT NULL,                -- scrypt$N$r$p$salt$hash (base64)
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,              -- the token itself is shown once and never stored
    user_name    TEXT NOT NULL REFERENCES users(name),
    label        TEXT,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_name);

CREATE TABLE search_indexed (                -- documents whose keys have been read (some have none)
    document_id TEXT PRIMARY KEY REFERENCES documents(id)
);
CREATE TABLE search_keys (                   -- upper-case UUID, RFC, 15-digit pedimento number, business key
    key         TEXT NOT NULL,
    document_id TEXT NOT NULL REFERENCES documents(id),
    PRIMARY KEY (key, document_id)
) WITHOUT ROWID;

CREATE INDEX documents_queue ON documents (state, received_at, id);
CREATE INDEX documents_state_kind_received ON documents (state, kind, received_at);
CREATE INDEX documents_state_source_received ON documents (state, source_name, received_at);
CREATE INDEX documents_received ON documents (received_at);
CREATE INDEX documents_parent ON documents (parent_id);
CREATE INDEX documents_replaces ON documents (replaces_id);
CREATE INDEX documents_duplicate_of ON documents (duplicate_of);
CREATE INDEX findings_code_document ON findings (code, document_id);
