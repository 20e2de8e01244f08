-- What happened per minute across every instance (starts, ends, admissions, play logs): each
-- instance adds its own counts every few seconds, and the dashboard and `sessionhub top` read them.
CREATE TABLE activity (
    minute BIGINT NOT NULL,  -- Unix minute (ms / 60000)
    name   TEXT NOT NULL,    -- e.g. start:adobe, end:nagra:expired, admission:granted
    value  BIGINT NOT NULL,
    PRIMARY KEY (minute, name)
);
