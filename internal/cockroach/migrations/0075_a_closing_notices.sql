-- A holder's online closing tells the account when it is asked for and
-- when it is cancelled (docs/security.md, "The cooling-off of an online
-- closing"): two notification kinds of their own. The list is every kind
-- before them (0063's) and the new ones. Such a notice is about the
-- account, not a hospital's: hospital_id is NULL for it.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed', 'account_phone_released', 'session_restored', 'account_login_moved',
                    'session_moved', 'account_closing_requested', 'account_closing_cancelled'));
ALTER TABLE notifications ALTER COLUMN hospital_id DROP NOT NULL;
