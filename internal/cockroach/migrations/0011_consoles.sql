-- The phone console (issue 13).

-- An operator puts a caller on a sold-out session's waitlist by phone: the
-- entry, like a phone booking, belongs to the identity and to no account.
-- booked_by names the operator, name_hash the name the caller gave (the
-- booking the entry turns into is made under it).
ALTER TABLE waitlist ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE waitlist ALTER COLUMN account_id DROP NOT NULL;
ALTER TABLE waitlist ADD COLUMN IF NOT EXISTS booked_by UUID REFERENCES accounts (id);
ALTER TABLE waitlist ADD COLUMN IF NOT EXISTS name_hash BYTEA;

-- Finding a caller by the number they ring from reads the phone-channel
-- events by their keyed phone reference.
CREATE INDEX IF NOT EXISTS booking_events_by_phone ON booking_events (phone) WHERE phone <> '';
