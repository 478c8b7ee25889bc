-- The events still holding a phone reference, an IP address or a device
-- id, by time: the retention job empties them past the detection window
-- (retention.sql erase_event_phones, review21 M5). It takes the place of
-- booking_events_phone_by_ts (0043_b), whose predicate no longer matches.
-- Hash-sharded as booking_events_by_ts (0002) is.
CREATE INDEX IF NOT EXISTS booking_events_traces_by_ts ON booking_events (ts) USING HASH
    WHERE phone <> '' OR ip <> '' OR device_id <> '';
