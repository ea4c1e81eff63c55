-- Revocable web sessions and scoped, expiring, revocable API tokens (issue 24, security).
-- A session cookie carries only a random id; the row is what makes it valid, so logout, a password change
-- or disabling the user end it at once. Tokens existing before this migration keep what they could do
-- (scope 'act', bounded by the user's role); new tokens default to 'read'.
CREATE TABLE web_sessions (
    id_sha256  TEXT PRIMARY KEY,                -- SHA-256 of the random id in the signed cookie
    user_name  TEXT NOT NULL REFERENCES users(name),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_name);

ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'act';   -- read | metrics | act
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;                     -- NULL: no expiry
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;                     -- set once, never cleared
ALTER TABLE api_tokens ADD COLUMN revoked_reason TEXT;
