-- review20 H1 (fix 4): the service inserts a pool's seal and commitment and
-- never changes them, so its role may not. Until now fairslot_service held
-- UPDATE on every column of lottery_pools (0005_roles), and anyone with the
-- service's database URL could copy one pool's seal and commitment into
-- another's row. It keeps UPDATE on the columns the draw and a session's
-- correction write (queries.sql claim_draw, save_ranking_pool,
-- save_outcomes_pool, finish_draw; sources.sql update_lottery_windows), not
-- on seed_sealed, commitment, seed_sealing, commitment_recipe, nor the
-- pool's key, hospital and created_at. Likewise an entry's commitment (the
-- one in force when it was admitted) is written once. A later migration
-- adding a column the service updates grants it here too.
--
-- PostgreSQL only: CockroachDB has no column privileges
-- (cockroachdb/cockroach#72766); there the service's role keeps UPDATE on
-- the whole table (docs/design.md "Who can still bias it").
REVOKE UPDATE ON lottery_pools FROM fairslot_service;
GRANT UPDATE (opens_at, draw_at, status, stage, lease_owner, lease_until, draw_started_at, entries_digest,
              slots, entries, eligible, held_out, excluded, unverified, seed, winners, drawn_at)
   ON lottery_pools TO fairslot_service;
REVOKE UPDATE ON lottery_entries FROM fairslot_service;
GRANT UPDATE (status, reason, flag_id, draw_rank, identity_id, updated_at)
   ON lottery_entries TO fairslot_service;
