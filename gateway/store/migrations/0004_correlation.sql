-- Correlation (pedimento ⇄ COVE ⇄ CFDI): the keys each document provides and needs, its place in the wait for
-- counterparts, and the links found when its group was checked. See gateway/correlate.py.
CREATE TABLE correlation_keys (
    document_id TEXT NOT NULL REFERENCES documents(id),
    role        TEXT NOT NULL,          -- provides | needs
    key_type    TEXT NOT NULL,          -- pedimento | cove | cfdi | cove-invoice | cove-answer
    key_value   TEXT NOT NULL,
    PRIMARY KEY (document_id, role, key_type, key_value)
);
CREATE INDEX correlation_keys_lookup ON correlation_keys (key_type, key_value);

CREATE TABLE correlation_members (
    document_id TEXT PRIMARY KEY REFERENCES documents(id),
    status      TEXT NOT NULL,          -- waiting | settled | rejected (by its group's verdict) | failed
    since       TEXT NOT NULL,          -- when it started waiting: correlation_timeout counts from here
    settled_at  TEXT
);
CREATE INDEX correlation_members_waiting ON correlation_members (status, since);

CREATE TABLE correlation_links (
    document_id TEXT NOT NULL REFERENCES documents(id),
    other_id    TEXT NOT NULL REFERENCES documents(id),
    other_kind  TEXT NOT NULL,
    role        TEXT NOT NULL,          -- what the other document is to this one: cove, cfdi, declared-in, …
    key_value   TEXT NOT NULL,
    PRIMARY KEY (document_id, other_id, role)
);
