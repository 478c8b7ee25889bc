-- What orders a session's waitlist (docs/design.md, "Returned slots"): the
-- round a join belongs to (when it ends) and the join's random key, which
-- orders it within the round. NULL round: none (a lottery loser, whose key
-- is its place in the drawn order, or an entry from before rounds), in line
-- by its time of joining. Reconciliation rebuilds the line from these.
ALTER TABLE waitlist ADD COLUMN IF NOT EXISTS round_ends_at TIMESTAMPTZ;
ALTER TABLE waitlist ADD COLUMN IF NOT EXISTS wait_key INT8 NOT NULL DEFAULT 0;
