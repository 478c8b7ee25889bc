-- Retention of what is kept only to call a person back (retention.go,
-- booking/retention.go). Each statement deletes one batch, oldest first, at
-- most $3 rows; $1 is the cutoff day (a session's day before it passed more
-- than the grace ago in every hospital's zone), $2 the cutoff instant (now
-- less the grace).

-- name: purge_call_backs
-- Call-back rows (0037) past their need: their session's day is before $1,
-- no substitute's slot offered from their booking is still held, or was
-- answered or lapsed since $2, and the row was written, last rung and told
-- (if it was) before $2.
DELETE FROM notifications WHERE id IN (
    SELECT n.id FROM notifications n
      JOIN clinic_sessions s ON s.id = n.session_id
     WHERE n.call_back AND n.created_at < $2
       AND s.visit_date < $1::DATE
       AND (n.last_call_at IS NULL OR n.last_call_at < $2)
       AND (n.delivered_at IS NULL OR n.delivered_at < $2)
       AND NOT EXISTS (SELECT 1 FROM substitute_offers o
                        WHERE o.original_booking_id = n.booking_id
                          AND (o.status = 'offered' OR COALESCE(o.decided_at, o.hold_until) >= $2))
     ORDER BY n.created_at
     LIMIT $3);

-- name: purge_caller_phones
-- Numbers kept to call back (0036) past their need: kept before $2, their
-- item's (a booking, waitlist place or lottery entry; a promoted place's
-- and a won entry's booking share its id and session) session's day is
-- before $1 or the item is gone, no substitute's slot offered in place of
-- it is still held or was answered or lapsed since $2, and no call-back row
-- about it is left (purge_call_backs runs first).
DELETE FROM caller_phones WHERE item_id IN (
    SELECT p.item_id FROM caller_phones p
      LEFT JOIN bookings b ON b.id = p.item_id
      LEFT JOIN waitlist w ON w.id = p.item_id
      LEFT JOIN lottery_entries e ON e.id = p.item_id
      LEFT JOIN clinic_sessions s ON s.id = COALESCE(b.session_id, w.session_id, e.session_id)
     WHERE p.kept_at < $2
       AND (s.id IS NULL OR s.visit_date < $1::DATE)
       AND NOT EXISTS (SELECT 1 FROM substitute_offers o
                        WHERE o.original_booking_id = p.item_id
                          AND (o.status = 'offered' OR COALESCE(o.decided_at, o.hold_until) >= $2))
       AND NOT EXISTS (SELECT 1 FROM notifications n
                        WHERE n.session_id = s.id AND n.call_back
                          AND p.item_id IN (n.booking_id, n.waitlist_id, n.entry_id))
     ORDER BY p.kept_at
     LIMIT $3);
