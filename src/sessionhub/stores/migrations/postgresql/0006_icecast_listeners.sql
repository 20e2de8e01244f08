-- A streaming server's listeners are sessions of their own API, icecast: admitted under their
-- account's limit like SRM players, but counted and listed apart. Those written before were
-- nagra sessions with the listener's origin in their params.
UPDATE sessions SET api = 'icecast'
    WHERE api = 'nagra' AND params LIKE '%"icecast.server"%';
