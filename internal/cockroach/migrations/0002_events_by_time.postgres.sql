-- Events are read by time (detection, audit). On PostgreSQL a plain index.
CREATE INDEX IF NOT EXISTS booking_events_by_ts ON booking_events (ts);
