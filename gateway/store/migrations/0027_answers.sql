-- Answers to senders (gateway/answers.py): one row per answer file written (or to write) for a received file.
-- state: pending (recorded, file not yet confirmed written) | written. A pending row is written again after a crash
-- (same name, same bytes), so an answer is never lost and never written twice under two names.
CREATE TABLE answers (
    document_id TEXT NOT NULL,          -- the file as received (a document with no parent)
    seq INTEGER NOT NULL,               -- 1, 2, 3… : a later verdict writes a new answer
    source_name TEXT NOT NULL,
    verdict TEXT NOT NULL,              -- accepted | rejected | partial
    fingerprint TEXT NOT NULL,          -- what the answer says, to tell whether a later verdict differs
    name TEXT NOT NULL,                 -- the answer's file name (without .json / .txt)
    payload TEXT NOT NULL,              -- the JSON answer
    text_payload TEXT NOT NULL,         -- its plain-text twin
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    written_at TEXT,
    PRIMARY KEY (document_id, seq)
);
CREATE INDEX answers_due ON answers (state, next_attempt_at);
-- how far a reader of the audit trail has got: 'answers' (gateway/answers.py), 'notify' (gateway/notify.py)
CREATE TABLE cursors (name TEXT PRIMARY KEY, audit_id INTEGER NOT NULL, updated_at TEXT NOT NULL);
