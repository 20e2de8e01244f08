-- The whole schema as of SQLite migrations 0001-0004 (PostgreSQL arrived after them).
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    api             TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('active', 'ended')),
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    end_reason      TEXT,
    expires_at      BIGINT,
    expiry_reason   TEXT,
    params          TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    data            BYTEA NOT NULL,
    account_id      TEXT,
    device_id       TEXT,
    content_id      TEXT,
    visitor_id      TEXT
);
CREATE INDEX sessions_by_start ON sessions (started_at, id);
CREATE INDEX sessions_by_api ON sessions (api, started_at, id);
CREATE INDEX sessions_lapsing ON sessions (expires_at) WHERE state = 'active';
CREATE INDEX sessions_live_by_account ON sessions (account_id, expires_at)
    WHERE state = 'active' AND account_id IS NOT NULL;
CREATE INDEX sessions_by_visitor ON sessions (visitor_id, started_at) WHERE visitor_id IS NOT NULL;

CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    ts          BIGINT NOT NULL,
    event_type  TEXT NOT NULL,
    playhead    DOUBLE PRECISION,
    received_at BIGINT NOT NULL,
    body        BYTEA NOT NULL,
    UNIQUE (session_id, ts, event_type)
);

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    enabled         BOOLEAN NOT NULL,
    max_sessions    INTEGER NOT NULL,
    policy          TEXT NOT NULL,
    lease_timeout_s INTEGER,
    password_hash   TEXT,
    created_at      BIGINT NOT NULL
);

CREATE TABLE devices (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    device_id  TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
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
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX client_tokens_by_account ON client_tokens (account_id, device_id);

CREATE TABLE visitors (
    id          TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL,
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

CREATE TABLE oauth_clients (
    client_id   TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    site_id     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    enabled     BOOLEAN NOT NULL
);

CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (client_id),
    site_id    BIGINT NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE play_logs (
    id                BIGSERIAL PRIMARY KEY,
    consumer_key      TEXT NOT NULL,
    kind              TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    country           TEXT NOT NULL,
    track_id          INTEGER NOT NULL,
    played_at         BIGINT NOT NULL,
    total_time_played INTEGER NOT NULL,
    user_agent        TEXT NOT NULL,
    play_type         TEXT NOT NULL,
    play_mode         TEXT,
    release_id        INTEGER,
    format_id         INTEGER,
    end_reason        TEXT,
    received_at       BIGINT NOT NULL,
    UNIQUE (played_at, consumer_key, kind, user_id, track_id, play_type)
);

CREATE TABLE consumers (
    key        TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    countries  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    enabled    BOOLEAN NOT NULL
);

CREATE TABLE oauth_nonces (
    consumer_key TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    timestamp    TEXT NOT NULL,
    seen_at      BIGINT NOT NULL,
    PRIMARY KEY (consumer_key, nonce, timestamp)
);
CREATE INDEX oauth_nonces_by_age ON oauth_nonces (seen_at);

CREATE TABLE rate_buckets (
    key        TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL
);
