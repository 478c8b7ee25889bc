-- The person is told what another account made for them (told16): a
-- booking, lottery entry or waitlist place another patient account made
-- for an identity tells the account holding it as its verified self
-- (made_by_other_account), beside what the event tells the maker. Two
-- notices of one event: an event is told once per kind, not once.
CREATE UNIQUE INDEX IF NOT EXISTS notifications_by_event_kind ON notifications (event_id, kind);
DROP INDEX IF EXISTS notifications_by_event;
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account'));
-- The notify job reads entries and waitlist places too: the partial index
-- of its read takes their types. A new name: CockroachDB refuses to make an
-- index under the name of one dropped in the same transaction
-- (cockroach#98494), and each migration is one.
DROP INDEX IF EXISTS booking_events_to_notify;
CREATE INDEX IF NOT EXISTS booking_events_notify_read ON booking_events (ts)
    WHERE type IN ('booked', 'cancelled', 'no_show', 'lottery_entered', 'waitlisted');
