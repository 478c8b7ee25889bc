-- A desk binding that makes another person an account's holder (本人) in
-- place of one it had claimed online tells the account (review24 H1;
-- docs/security.md, "Being listed is not holding"): a notification kind of
-- its own. The list is every kind before it (0075_a's) and the new one.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed', 'account_phone_released', 'session_restored', 'account_login_moved',
                    'session_moved', 'account_closing_requested', 'account_closing_cancelled', 'account_holder_changed'));
