-- Links between documents found by their business keys: a byte-different resend of the same document
-- (role resend-of) and a rectification that supersedes the pedimento it corrects (role supersedes).
CREATE TABLE document_links (
    document_id TEXT NOT NULL REFERENCES documents(id),
    target_id   TEXT NOT NULL REFERENCES documents(id),
    role        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (document_id, target_id, role)
);
CREATE INDEX document_links_target ON document_links (target_id);
