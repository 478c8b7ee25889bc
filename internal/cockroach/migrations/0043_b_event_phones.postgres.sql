-- The events still holding a phone reference, by time: the retention job
-- empties it past its need (0043_a).
CREATE INDEX IF NOT EXISTS booking_events_phone_by_ts ON booking_events (ts) WHERE phone <> '';
