-- booking_events_phone_by_ts (0043_b) served the retention job's old
-- predicate (phone <> ''); booking_events_traces_by_ts (0064_a) serves the
-- new one, which also empties IP addresses and device ids. Apart from
-- 0064_a: one DDL step a transaction.
DROP INDEX IF EXISTS booking_events_phone_by_ts;
