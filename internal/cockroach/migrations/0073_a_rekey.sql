-- A master key rotation (`fairslot rekey`, review21b H4). rekey names the
-- run under way: the fingerprints of the key the data is moving from and of
-- the one it moves to. While its row is there no instance starts, with
-- either key (checkKey): a value sealed under one key and read with the
-- other would fail. rekey_progress records, in the transaction of each
-- batch, the last row each step rewrote, so a run that died midway is
-- finished by running it again, and no row is rewritten twice (a keyed
-- hash rewritten twice would be a hash of a hash). Both are emptied when
-- the run ends, in the transaction that records the new key's fingerprint.
CREATE TABLE IF NOT EXISTS rekey (
    id              INT         PRIMARY KEY CHECK (id = 1),
    old_fingerprint BYTEA       NOT NULL,
    new_fingerprint BYTEA       NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS rekey_progress (
    step      TEXT        PRIMARY KEY,
    after_key TEXT        NOT NULL,
    done      BOOL        NOT NULL DEFAULT false,
    rows_done INT8        NOT NULL DEFAULT 0,
    at        TIMESTAMPTZ NOT NULL
);
