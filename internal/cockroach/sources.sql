-- Slot sources (号源): an administrator's sessions (sources.go).

-- name: session_overlap
-- Another session of the doctor whose time overlaps, or in the same period
-- of the same day (the table's unique key).
SELECT id::TEXT FROM clinic_sessions
 WHERE doctor_id = $1 AND id <> $2
   AND ((starts_at < $4 AND ends_at > $3) OR (visit_date = $5::DATE AND period = $6))
 LIMIT 1;

-- name: session_in_use
-- What makes a session released for good: a booking (in any state), a
-- lottery entry or seed, a waitlist entry. The session row is locked so a
-- change and a first booking cannot cross.
SELECT s.id::TEXT,
       EXISTS (SELECT 1 FROM bookings b WHERE b.session_id = s.id)
    OR EXISTS (SELECT 1 FROM lottery_entries e WHERE e.session_id = s.id)
    OR EXISTS (SELECT 1 FROM lottery_pools p WHERE p.session_id = s.id)
    OR EXISTS (SELECT 1 FROM waitlist w WHERE w.session_id = s.id)
  FROM clinic_sessions s WHERE s.id = $1
   FOR UPDATE;

-- name: update_session
UPDATE clinic_sessions
   SET department_id = $2, visit_date = $3::DATE, period = $4, starts_at = $5, ends_at = $6, release_mode = $7
 WHERE id = $1;

-- name: delete_session_slots
DELETE FROM slots WHERE session_id = $1;

-- name: delete_session_channels
DELETE FROM session_channels WHERE session_id = $1;

-- name: delete_session
DELETE FROM clinic_sessions WHERE id = $1;
