-- Who ended an item another account made for the person, and refusals for
-- what another account made (docs/security.md, "Ownership"): by_account_id
-- is the account of the person's verified self that cancelled, withdrew or
-- left it (the event's account_id stays the maker's); made_by_other_account
-- marks a refused attempt of the person for something another patient
-- account made for them. Scalper detection reads both (docs/detection.md);
-- every other event leaves them NULL.
ALTER TABLE booking_events ADD COLUMN IF NOT EXISTS by_account_id UUID;
ALTER TABLE booking_events ADD COLUMN IF NOT EXISTS made_by_other_account BOOL;
