-- An account its holder closed (online, or at the registration desk with
-- the ID card): docs/security.md, "Closing an account". The row stays (the
-- bookings, events, cases and audit name it); its login number's keyed hash
-- is replaced by a tombstone in the same write, so the number is free for
-- a new account at once, and nothing finds the account by it. NULL: open.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS closed_at TIMESTAMPTZ;
