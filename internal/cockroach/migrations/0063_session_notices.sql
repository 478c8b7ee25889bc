-- Changes a clinic's patients are told of without losing their slots
-- (review19b M5; booking.AnnounceSession): the room (诊室) the clinic is
-- held in, and a delayed start (延迟开诊) in minutes, both on the session's
-- public record. Each change raises the session's version and writes a
-- session_changed notification for every booking, waiting place and live
-- lottery entry of the session.
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS room TEXT NOT NULL DEFAULT '';
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS delay_minutes INT NOT NULL DEFAULT 0 CHECK (delay_minutes >= 0);
-- A clinic moved to another time (改期, booking.MoveSession): when, and
-- where it started before its first move (the public record says "moved
-- from"); its bookings go with it, told by a notification of its own kind.
-- The kind list is every kind before it (0059's) and the new one.
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS moved_at TIMESTAMPTZ;
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS moved_from TIMESTAMPTZ;
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed', 'account_phone_released', 'session_restored', 'account_login_moved',
                    'session_moved'));
