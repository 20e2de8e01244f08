-- A ping moves its session's expiry; while that column was indexed (the sweep's index and the
-- admission's index by account), every ping wrote a new entry into all eight indexes of
-- sessions (no heap-only update is possible when an indexed column changes). The sweep now
-- finds its rows by sweep_at, a lower bound of expires_at that only an expiry moving earlier
-- lowers; the sweep raises it to the expiry when it finds a session renewed. A ping that
-- moves the expiry later changes no indexed column and can stay on its page.
ALTER TABLE sessions ADD COLUMN sweep_at BIGINT;
UPDATE sessions SET sweep_at = expires_at WHERE state = 'active' AND expires_at IS NOT NULL;
DROP INDEX sessions_lapsing;
CREATE INDEX sessions_sweep ON sessions (sweep_at) WHERE state = 'active';
DROP INDEX sessions_live_by_account;
CREATE INDEX sessions_live_by_account ON sessions (account_id)
    WHERE state = 'active' AND account_id IS NOT NULL;
-- Room on each page for a row's next version, so an update can stay on its page.
ALTER TABLE sessions SET (fillfactor = 80);
