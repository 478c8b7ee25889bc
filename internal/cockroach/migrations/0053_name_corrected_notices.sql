-- A booking another account made for a person under a near miss of the
-- name the desk verified from their card (a misheard character, 同音字) is
-- kept under the verified name, and its account told (name_corrected)
-- in the correction's transaction; far names are still voided.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected'));
