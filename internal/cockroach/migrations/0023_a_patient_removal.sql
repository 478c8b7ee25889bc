-- A family member (就诊人) the account holder removed (issue 13): a soft
-- delete, so the bookings, entries, waitlist places, events and audit that
-- name the row keep it. A removed row does not count towards the account's
-- places nor the phone's accounts, is not listed, and books nothing (the
-- booking and entry inserts refuse it); adding the identity again to the
-- same account gives the row back (UNIQUE (account_id, identity_id) stays).
ALTER TABLE patients ADD COLUMN IF NOT EXISTS removed_at TIMESTAMPTZ;
