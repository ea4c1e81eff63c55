-- Documents, their findings, the audit trail (one row per state change, as Bots' ta table) and the outbox.
CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    kind            TEXT,
    declared_kind   TEXT NOT NULL DEFAULT 'auto',
    state           TEXT NOT NULL,
    source_name     TEXT NOT NULL,
    filename        TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    received_at     TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_acked_at TEXT,
    parent_id       TEXT REFERENCES documents(id),
    duplicate_of    TEXT REFERENCES documents(id),
    replaces_id     TEXT REFERENCES documents(id),
    business_key    TEXT,
    record          TEXT,
    error_count     INTEGER NOT NULL DEFAULT 0,
    first_error     TEXT
);
CREATE INDEX documents_state_received ON documents (state, received_at);
CREATE INDEX documents_sha256 ON documents (sha256);
CREATE INDEX documents_business_key ON documents (business_key);

CREATE TABLE findings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL REFERENCES documents(id),
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    message     TEXT NOT NULL,
    location    TEXT NOT NULL DEFAULT '{}',
    sat_code    TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX findings_document ON findings (document_id);
CREATE INDEX findings_code ON findings (code);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL REFERENCES documents(id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT,
    reason      TEXT,
    detail      TEXT
);
CREATE INDEX audit_document ON audit (document_id, id);

CREATE TABLE outbox (
    document_id     TEXT NOT NULL REFERENCES documents(id),
    sink            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    delivered_at    TEXT,
    PRIMARY KEY (document_id, sink)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
