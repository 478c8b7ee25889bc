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

-- The number a caller rang from, per person: the keyed hash (what finds
-- them) and the number sealed (AES-GCM, as an account's phone), so the
-- call centre can ring them back. Written when an operator books, enters
-- or waitlists the person by phone.
CREATE TABLE IF NOT EXISTS caller_phones (
    identity_id  UUID  NOT NULL,
    phone_hash   BYTEA NOT NULL,
    phone_sealed BYTEA NOT NULL,
    phone_masked TEXT  NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (identity_id, phone_hash)
);

-- Stops of sessions still to come whose account-less notices the old job
-- stamped delivered had told nobody: they go back on the call-back list.
UPDATE notifications SET delivered_at = NULL
 WHERE kind = 'session_stopped' AND account_id IS NULL AND delivered_at IS NOT NULL AND told_by IS NULL
   AND session_id IN (SELECT id FROM clinic_sessions WHERE ends_at > now());
