-- Who in the operations team works a document (the web page's "Asignar a"): one row per assigned document,
-- written with an audit row in the same transaction (gateway/store/web_queries.py). Notes need no table:
-- a note is an audit row (action "note"), so it is in the history by construction.
CREATE TABLE document_assignments (
    document_id TEXT PRIMARY KEY REFERENCES documents(id),
    user_name   TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at TEXT NOT NULL
);
CREATE INDEX document_assignments_user ON document_assignments (user_name);
