-- Changes a clinic's patients are told of without losing their slots
-- (review19b M5; booking.AnnounceSession): the room (诊室) the clinic is
-- held in, and a delayed start (延迟开诊) in minutes, both on the session's
-- public record. Each change raises the session's version and writes a
-- session_changed notification for every booking, waiting place and live
-- lottery entry of the session.
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS room TEXT NOT NULL DEFAULT '';
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS delay_minutes INT NOT NULL DEFAULT 0 CHECK (delay_minutes >= 0);
