-- Playback authorization: who a session belongs to, and the accounts behind it.
ALTER TABLE sessions ADD COLUMN account_id TEXT;
ALTER TABLE sessions ADD COLUMN device_id TEXT;
ALTER TABLE sessions ADD COLUMN content_id TEXT;
CREATE INDEX sessions_live_by_account ON sessions (account_id, expires_at)
    WHERE state = 'active' AND account_id IS NOT NULL;

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    enabled         INTEGER NOT NULL,
    max_sessions    INTEGER NOT NULL,
    policy          TEXT NOT NULL,
    lease_timeout_s INTEGER,
    password_hash   TEXT,
    created_at      INTEGER NOT NULL
);

CREATE TABLE devices (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    device_id  TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id)
);

CREATE TABLE content (
    content_id   TEXT PRIMARY KEY,
    content_type TEXT NOT NULL
);

CREATE TABLE entitlements (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    content_id TEXT NOT NULL REFERENCES content (content_id),
    PRIMARY KEY (account_id, content_id)
);

CREATE TABLE client_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    device_id  TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX client_tokens_by_account ON client_tokens (account_id, device_id);
