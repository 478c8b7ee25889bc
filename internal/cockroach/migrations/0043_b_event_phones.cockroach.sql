-- The events still holding a phone reference, by time: the retention job
-- empties it past its need (0043_a). CockroachDB: hash-sharded as
-- booking_events_by_ts (0002) is, so every login's write does not land on
-- one range.
CREATE INDEX IF NOT EXISTS booking_events_phone_by_ts ON booking_events (ts) USING HASH WHERE phone <> '';
