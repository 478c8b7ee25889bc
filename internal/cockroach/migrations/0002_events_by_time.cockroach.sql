-- CockroachDB only: a hash-sharded index, so the ever-increasing timestamp
-- does not make one range the hot spot for every write.
CREATE INDEX IF NOT EXISTS booking_events_by_ts ON booking_events (ts) USING HASH;
