-- A mistaken stop (停诊) undone (review19b H1; booking.RestoreSession): the
-- stopped session names the session that restored it (one restore a stop),
-- the hospital's policy says for how long a stop may be restored (minutes;
-- 0: booking.DefaultStopUndoMinutes, 30), and the restored patients are told
-- by a notification of their own kind.
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS restored_as UUID;
ALTER TABLE hospital_policies ADD COLUMN IF NOT EXISTS stop_undo_minutes INT NOT NULL DEFAULT 0 CHECK (stop_undo_minutes >= 0);
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed', 'account_phone_released', 'session_restored'));
