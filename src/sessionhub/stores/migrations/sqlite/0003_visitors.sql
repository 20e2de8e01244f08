-- Visitor profiles across APIs, and OAuth 2.0 clients for the Nuance Data Collection API.
CREATE TABLE visitors (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    merged_into TEXT,
    profile     TEXT NOT NULL
);

CREATE TABLE visitor_identities (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    visitor_id TEXT NOT NULL REFERENCES visitors (id),
    PRIMARY KEY (kind, value)
);
CREATE INDEX visitor_identities_by_visitor ON visitor_identities (visitor_id);

ALTER TABLE sessions ADD COLUMN visitor_id TEXT;
CREATE INDEX sessions_by_visitor ON sessions (visitor_id, started_at) WHERE visitor_id IS NOT NULL;

CREATE TABLE oauth_clients (
    client_id   TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    site_id     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    enabled     INTEGER NOT NULL
);

CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (client_id),
    site_id    INTEGER NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
