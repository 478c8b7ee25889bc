-- The name a lottery entry was made under (the patient's claim, or the
-- caller's or walk-in's name), as a keyed hash: the draw books a winner
-- under it, so the booking's name guard (insert_booking, identity_unverified)
-- runs at the draw. Empty on entries made before it.
ALTER TABLE lottery_entries ADD COLUMN IF NOT EXISTS name_hash BYTEA;
