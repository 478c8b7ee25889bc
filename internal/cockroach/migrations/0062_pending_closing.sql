-- An online closing waits (review19c M6): closing_due_at is when a
-- requested closing completes (the job "pending closings"); a login before
-- then cancels it. NULL: no closing pending.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS closing_due_at TIMESTAMPTZ;
-- Who closed it at the desk (NULL: its holder online) and whether the
-- clerk said the login was taken: the job that sweeps a closed account
-- again cancels in the clerk's name and, when taken, without penalty, as
-- the closing itself would have.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS closed_by UUID;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS closed_taken BOOL NOT NULL DEFAULT false;

-- The job reads the pending closings only.
CREATE INDEX IF NOT EXISTS accounts_closing_due ON accounts (closing_due_at) WHERE closing_due_at IS NOT NULL;
