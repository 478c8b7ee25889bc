-- review20 H1: a pool's seed is sealed for that pool, its commitment is used
-- once, and each entry keeps the commitment in force when it was admitted.
--
-- seed_sealing says how seed_sealed was sealed: 1, for the purpose only
-- (every pool committed before this migration: the rows it finds, and the
-- column's default, so an instance of the previous release still running in
-- a rolling upgrade writes a row that says truly how it sealed), 2, for the
-- purpose and the pool (session and channel; see booking.SeedPurpose), which
-- the service now always writes itself. A draw opens a seed only as its row
-- says, never one way and then the other.
ALTER TABLE lottery_pools ADD COLUMN IF NOT EXISTS seed_sealing INT NOT NULL DEFAULT 1;
-- A commitment names one pool's seed: a copy in another row is refused.
CREATE UNIQUE INDEX IF NOT EXISTS lottery_pools_one_commitment ON lottery_pools (commitment);
-- The commitment published when the entry was admitted (NULL for entries
-- admitted before this migration, or by an instance of the previous release
-- during a rolling upgrade): the draw refuses a pool whose entries name
-- another one.
ALTER TABLE lottery_entries ADD COLUMN IF NOT EXISTS commitment BYTEA;
