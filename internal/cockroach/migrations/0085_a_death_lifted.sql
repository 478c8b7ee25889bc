-- A death the desk recorded in error is lifted by an administrator
-- (review24 M2, session 25; booking.LiftDeath): each account listing the
-- person is told (death_lifted). Every kind before it (0084_a's) and the
-- new one.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed', 'account_phone_released', 'session_restored', 'account_login_moved',
                    'session_moved', 'account_closing_requested', 'account_closing_cancelled', 'account_holder_changed',
                    'listing_removed_by_person', 'death_lifted'));
