-- Per-person dashboard logins: each operator has a role, maybe one tenant, and a token kept
-- only as its hash. A visit remembers whose it is, so revoking a person ends their visits.
CREATE TABLE operators (
    name       TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    tenant     TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
ALTER TABLE dashboard_visits ADD COLUMN operator TEXT;
ALTER TABLE dashboard_visits ADD COLUMN tenant TEXT;
-- Who changed what: sessions ended, operators added and revoked.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);
