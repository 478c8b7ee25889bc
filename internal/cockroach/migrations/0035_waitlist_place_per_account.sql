-- A person may wait in a session once per account that holds them (and once
-- by phone), no longer once in all. A join from an account that is not the
-- person's verified self is taken even when another account's place or
-- booking for the person rules it out, so that the answer tells it nothing
-- of what others made (docs/security.md, "Refusals tell nothing of what
-- others made"); a place beside another's in an open round takes its round
-- and key, and a returned slot passes a person who holds the session by, so
-- the person is never drawn twice nor served twice. A join with nothing of
-- another account's in the way is still refused while the person waits or
-- is booked there (AddWaitlist reads it).
DROP INDEX IF EXISTS waitlist_one_per_identity;
CREATE UNIQUE INDEX IF NOT EXISTS waitlist_one_per_account ON waitlist (session_id, identity_id, account_id)
  WHERE status = 'waiting' AND account_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS waitlist_one_by_phone ON waitlist (session_id, identity_id)
  WHERE status = 'waiting' AND account_id IS NULL;
