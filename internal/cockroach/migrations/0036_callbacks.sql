-- The call-back list (停诊 told by phone): a notification of a person no
-- account lists (a phone or desk booking, waitlist place or lottery entry)
-- has no channel that reaches them. The notify job no longer stamps it
-- delivered: it waits on its hospital's call-back list until an operator or
-- a clerk marks it told (delivered_at), and each call is counted on the row
-- (and audited).
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS call_attempts INT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS last_call_at TIMESTAMPTZ;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS last_call_outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS told_by UUID;

-- What the notify job delivers (an account's), and what waits to be called
-- back (a stop's notice of a person on no account's list), each by its own
-- partial index: the account-less notices that stay undelivered do not
-- slow the job down.
CREATE INDEX IF NOT EXISTS notifications_to_deliver ON notifications (created_at)
 WHERE delivered_at IS NULL AND account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS notifications_to_call ON notifications (hospital_id, created_at)
 WHERE delivered_at IS NULL AND account_id IS NULL AND kind = 'session_stopped';

-- The number a call came from, per booking, waitlist place or lottery entry
-- made on it (item_id; a won entry's booking has the entry's id), sealed
-- (AES-GCM, as an account's phone) and masked, so the call centre can ring
-- back the caller who made it — not whoever rang last about the same
-- person (review14b: anyone who knows an ID number and name can ring).
-- Written when an operator books, enters or waitlists a person by phone.
CREATE TABLE IF NOT EXISTS caller_phones (
    item_id      UUID  PRIMARY KEY,
    identity_id  UUID  NOT NULL,
    phone_sealed BYTEA NOT NULL,
    phone_masked TEXT  NOT NULL,
    kept_at      TIMESTAMPTZ NOT NULL
);

-- Stops of sessions still to come whose account-less notices the old job
-- stamped delivered had told nobody: they go back on the call-back list.
UPDATE notifications SET delivered_at = NULL
 WHERE kind = 'session_stopped' AND account_id IS NULL AND delivered_at IS NOT NULL AND told_by IS NULL
   AND session_id IN (SELECT id FROM clinic_sessions WHERE ends_at > now());
