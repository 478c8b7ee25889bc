-- Leases of background jobs (booking.Leases): which instance runs a job and
-- until when, by the database's clock. One row per job.
CREATE TABLE IF NOT EXISTS job_leases (
    job         TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL
);
