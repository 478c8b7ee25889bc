-- Whether the service allotted a booking (a lottery draw's win, a waitlist
-- place's promotion: Booking.Allotted, free to cancel for 2 hours after it
-- was made), stored when the booking is made. booking_rows derived it on
-- every read with two primary-key probes a row, and reconciliation reads a
-- whole hospital's bookings. The backfill is a statement of its own
-- (CockroachDB refuses DDL and DML on one table in one transaction; the
-- runner runs a migration's statements apart there): a booking is allotted
-- when its id is a lottery entry's or a waitlist place's of its session, as
-- booking_rows read it. Run again, it sets what it set.
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS allotted BOOL NOT NULL DEFAULT false;
UPDATE bookings SET allotted = true
 WHERE NOT allotted
   AND (EXISTS (SELECT 1 FROM lottery_entries le WHERE le.id = bookings.id AND le.session_id = bookings.session_id)
        OR EXISTS (SELECT 1 FROM waitlist w WHERE w.id = bookings.id AND w.session_id = bookings.session_id));
