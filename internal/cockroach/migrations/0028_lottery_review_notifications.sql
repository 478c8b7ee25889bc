-- Lottery entries kept out of a draw told so (issue 13): lottery_review
-- (held out for review: the entry is under review, not in this draw); an
-- entry excluded at the draw, or after the review, is told it was not
-- drawn (lottery_lost), one dismissed and put on the waitlist so
-- (lottery_waitlisted). The words never name the flag or its evidence.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review'));
