-- The version of the schedule (issue 14): raised in the transaction of every
-- change of it (a session published, changed, deleted, stopped, slots added
-- or moved); every instance polls it each second and reloads its catalog
-- when it moved. One row.
CREATE TABLE IF NOT EXISTS catalog_version (
    id         INT PRIMARY KEY CHECK (id = 1),
    version    INT8 NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
