-- The count of commits of sessionhub's writers: each write transaction adds one.
-- A store that knows the count its own commits lead to sees any other writer's commit
-- (the writer process and the store's own connection write the same file, see sqlite_writer).
CREATE TABLE commit_marks (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO commit_marks (id, n) VALUES (1, 0);
