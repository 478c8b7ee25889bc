-- The master key's fingerprint (a keyed digest that reveals nothing of the
-- key), recorded by the first instance or tool that opens the database and
-- compared by every one after it. A service started with another key found
-- no phone and no ID number it knew, said it was ready, and made a second
-- account and a second person for everyone who came back (review16's H1):
-- now it refuses to start.
CREATE TABLE IF NOT EXISTS key_check (
    id          INT         PRIMARY KEY CHECK (id = 1),
    fingerprint BYTEA       NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
