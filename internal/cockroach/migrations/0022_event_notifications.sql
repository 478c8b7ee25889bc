-- Notifications derived from the booking-event log by the notify job
-- (booked, cancelled for the patient, no-show; issue 13): each names the
-- event it tells of, once.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS event_id UUID;
CREATE UNIQUE INDEX IF NOT EXISTS notifications_by_event ON notifications (event_id);
-- The notify job reads these events every 2 s, 30 s behind its cursor: a
-- partial index keeps that read off the refusal events of a release minute
-- (and costs their inserts nothing).
CREATE INDEX IF NOT EXISTS booking_events_to_notify ON booking_events (ts)
    WHERE type IN ('booked', 'cancelled', 'no_show');
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show'));
