-- The name a booking was requested under (lows16). A check-in by override
-- puts the card's verified name on the booking (name_hash); the name the
-- request gave is kept here, so a replay of that request (its
-- Idempotency-Key) is still told from another request and gets its first
-- answer. NULL: the same as name_hash (never replaced, or replaced before
-- this column: those replays stay refused).
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS booked_name_hash BYTEA;
