-- A lottery's result told to those it did not book (issue 13): the winners
-- are told by their booking's event (booked, reason lottery); the draw
-- writes, with its record, a notification to each entrant it did not book:
-- lottery_lost (not drawn, or drawn and passed over), lottery_waitlisted
-- (not drawn, on the session's waitlist as asked).
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted'));
