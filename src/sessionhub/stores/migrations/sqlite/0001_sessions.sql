-- Sessions of every API and their event timelines.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    api             TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('active', 'ended')),
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    end_reason      TEXT,
    expires_at      INTEGER,
    expiry_reason   TEXT,
    params          TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    data            BLOB NOT NULL
);
CREATE INDEX sessions_by_start ON sessions (started_at, id);
CREATE INDEX sessions_by_api ON sessions (api, started_at, id);
CREATE INDEX sessions_lapsing ON sessions (expires_at) WHERE state = 'active';

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    ts          INTEGER NOT NULL,
    event_type  TEXT NOT NULL,
    playhead    REAL,
    received_at INTEGER NOT NULL,
    body        BLOB NOT NULL,
    UNIQUE (session_id, ts, event_type)
);
