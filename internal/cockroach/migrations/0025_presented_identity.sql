-- Who showed the card at a check-in the desk refused (identity_mismatch):
-- the identity id of the card's person (a keyed id for a card nobody
-- registered, never the number) and whether that person is on the
-- booking's account. Scalper detection counts the bookings strangers came
-- for (docs/detection.md); every other event leaves both NULL.
ALTER TABLE booking_events ADD COLUMN IF NOT EXISTS presented_identity_id UUID;
ALTER TABLE booking_events ADD COLUMN IF NOT EXISTS presented_on_account BOOL;
