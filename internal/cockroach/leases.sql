-- Queries of the job leases (leases.go), in the SQL both PostgreSQL and
-- CockroachDB speak. now() is the database's clock: the instances' clocks
-- never decide who holds a lease.

-- name: claim_lease
-- Takes a missing or expired lease, or renews the holder's own; a row comes
-- back only when $2 holds the lease afterwards. acquired_at moves only when
-- the holder changes.
INSERT INTO job_leases (job, holder, expires_at, acquired_at)
VALUES ($1, $2, now() + $3::INT8 * INTERVAL '1 millisecond', now())
ON CONFLICT (job) DO UPDATE
   SET holder = excluded.holder,
       expires_at = excluded.expires_at,
       acquired_at = CASE WHEN job_leases.holder = excluded.holder
                          THEN job_leases.acquired_at ELSE excluded.acquired_at END
 WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= now()
RETURNING holder;

-- name: release_lease
DELETE FROM job_leases WHERE job = $1 AND holder = $2;
