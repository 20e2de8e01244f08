-- Attempts at a password, secret or dashboard token per key (an account, a client id, an
-- address) and fixed window, shared by every process: a guesser gets the limit once in all,
-- not once per worker or instance. Rows of past windows are deleted as new ones are counted.
CREATE TABLE auth_attempts (
    key       TEXT NOT NULL,
    window_no BIGINT NOT NULL,  -- now_ms // window_ms
    attempts  INTEGER NOT NULL,
    PRIMARY KEY (key, window_no)
);

-- Signed-in dashboard visits, kept server-side so that logging out (or revoking) ends a visit
-- for every copy of its cookie at once. The cookie holds the visit's id, the table only its hash.
CREATE TABLE dashboard_visits (
    id_hash    TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
