-- A doctor's fee level or title changed: the bookings of their clinics to
-- come are told (session_changed), in the change's transaction.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed'));
