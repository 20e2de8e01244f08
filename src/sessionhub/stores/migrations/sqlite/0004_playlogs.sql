-- Play logs (MassiveMusic / 7digital), OAuth 1.0a consumers, nonces and rate-limit buckets.
CREATE TABLE play_logs (
    id                INTEGER PRIMARY KEY,
    consumer_key      TEXT NOT NULL,
    kind              TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    country           TEXT NOT NULL,
    track_id          INTEGER NOT NULL,
    played_at         INTEGER NOT NULL,
    total_time_played INTEGER NOT NULL,
    user_agent        TEXT NOT NULL,
    play_type         TEXT NOT NULL,
    play_mode         TEXT,
    release_id        INTEGER,
    format_id         INTEGER,
    end_reason        TEXT,
    received_at       INTEGER NOT NULL,
    -- One index for both jobs: it makes a retried log a duplicate, and, led by the time
    -- played, it serves the reports' time ranges (a second index cost ~4 us per insert).
    UNIQUE (played_at, consumer_key, kind, user_id, track_id, play_type)
);

CREATE TABLE consumers (
    key        TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    countries  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    enabled    INTEGER NOT NULL
);

CREATE TABLE oauth_nonces (
    consumer_key TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    timestamp    TEXT NOT NULL,
    seen_at      INTEGER NOT NULL,
    PRIMARY KEY (consumer_key, nonce, timestamp)
);
CREATE INDEX oauth_nonces_by_age ON oauth_nonces (seen_at);

CREATE TABLE rate_buckets (
    key        TEXT PRIMARY KEY,
    tokens     REAL NOT NULL,
    updated_at INTEGER NOT NULL
);
