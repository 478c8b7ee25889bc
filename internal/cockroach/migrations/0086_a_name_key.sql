-- The form the database's names may still be hashed in (review24 M1's
-- upgrade path, identity.NameKeyVersion): 1, the name as typed, when any
-- person was recorded before 0083_a, the migration of the build that began
-- hashing names by their key (identity.NameKey) — such a person's names
-- may be in the old form, which no claim matches any more; 2 (NameKey)
-- otherwise: a fresh database, or one whose persons all came after.
-- `fairslot rekey` moves every name to its key's hash and records 2; serve
-- reads the row at start and warns while it is older (docs/operations.md,
-- "Names hashed before their key"). One row; a rerun keeps it.
CREATE TABLE IF NOT EXISTS name_key (
    id          INT         PRIMARY KEY CHECK (id = 1),
    version     INT         NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);

INSERT INTO name_key (id, version, recorded_at)
SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM identities i, schema_migrations m
                             WHERE m.name = '0083_a_names_and_deaths.sql' AND i.created_at < m.applied_at)
               THEN 1 ELSE 2 END, now()
ON CONFLICT (id) DO NOTHING;
