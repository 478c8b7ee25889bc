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

-- Erasures (session 17): the row stays, the number or name it kept past
-- its need goes. Each statement changes one batch, oldest first, at most
-- its last parameter rows. The outer WHERE repeats the rule, so a row a
-- concurrent transaction changed after the inner SELECT read it (a member
-- added back, a case reopened) is checked again as it now is and passed by.

-- name: erase_removed_members
-- A family member removed (0023) before $1 (the removal less the grace):
-- the number the account gave for them (hash, sealed, masked) and the name
-- it gave (sealed). The row, its identity, its masked name and name hash
-- stay (the bookings, the audit and the account's history name it).
UPDATE patients SET phone_hash = NULL, phone_sealed = NULL, phone_masked = '', name_sealed = NULL
 WHERE removed_at < $1
   AND (phone_hash IS NOT NULL OR phone_sealed IS NOT NULL OR name_sealed IS NOT NULL)
   AND id IN (SELECT id FROM patients
               WHERE removed_at IS NOT NULL AND removed_at < $1
                 AND (phone_hash IS NOT NULL OR phone_sealed IS NOT NULL OR name_sealed IS NOT NULL)
               ORDER BY removed_at
               LIMIT $2);

-- name: erase_event_phones
-- An event's phone reference (the keyed hash of a caller's or an account's
-- number), IP address and device id, written before $2 (now less the
-- detection window or the grace, the longer) whose session's day, if it
-- has one, is before $1: the detector compares them within its window and
-- needs them no more (review21 M5). The row stays (a login, a booking).
UPDATE booking_events SET phone = '', ip = '', device_id = ''
 WHERE (phone <> '' OR ip <> '' OR device_id <> '') AND ts < $2
   AND id IN (SELECT e.id FROM booking_events e
                LEFT JOIN clinic_sessions s ON s.id = e.session_id
               WHERE (e.phone <> '' OR e.ip <> '' OR e.device_id <> '') AND e.ts < $2
                 AND (s.id IS NULL OR s.visit_date < $1::DATE)
               ORDER BY e.ts
               LIMIT $3);

-- name: erase_report_phones
-- The number a report says a slot was offered from (hash and mask), once
-- the report was filed before $1 (the detection window's start: the
-- detector reads it no more), closed before $2 (the grace), and no open
-- flag links it (flag_id) or holds it as evidence (the detector's
-- attached cases, the explanation's case_ids). The open flags' attached
-- cases are read once a batch, not once a case: matching each case against
-- every open flag's explanation took 117 s a batch at 2,000 open flags
-- (review17b).
UPDATE patient_cases SET offered_phone_hash = NULL, offered_phone_masked = ''
 WHERE offered_phone_hash IS NOT NULL AND status = 'closed' AND closed_at < $2 AND created_at < $1
   AND id IN (SELECT c.id FROM patient_cases c
               WHERE c.offered_phone_hash IS NOT NULL AND c.created_at < $1
                 AND c.status = 'closed' AND c.closed_at < $2
                 AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.status = 'open' AND f.id = c.flag_id)
                 AND c.id::TEXT NOT IN (SELECT jsonb_array_elements_text(f.explanation -> 'case_ids') FROM flags f
                                         WHERE f.status = 'open' AND jsonb_typeof(f.explanation -> 'case_ids') = 'array')
               ORDER BY c.created_at
               LIMIT $3);

-- name: purge_events
-- Booking events past their retention (booking.EventRetention, review21b
-- M4): refused attempts (rejected, rate_limited) written before $1 whose
-- session's day, if any, is before $3, and every other event written before
-- $2 whose session's day, if any, is before $4. Oldest first, at most $5.
DELETE FROM booking_events WHERE id IN (
    SELECT e.id FROM booking_events e
      LEFT JOIN clinic_sessions s ON s.id = e.session_id
     WHERE e.ts < $1
       AND (e.type IN ('rejected', 'rate_limited') AND (s.id IS NULL OR s.visit_date < $3::DATE)
            OR e.ts < $2 AND (s.id IS NULL OR s.visit_date < $4::DATE))
     ORDER BY e.ts
     LIMIT $5);

-- Retention of what a patient was told, of persons nobody lists and of
-- closed cases' texts (review21 M7, session 23; booking/retention.go).

-- name: purge_notifications
-- An account's notifications once the account closed before $1 (30 days
-- ago: the closing's own questions are answered by then; nobody reads them
-- any more), and any notification read and written before $2 (a year ago).
-- Call-back rows are purge_call_backs' (their own rule). Oldest first, at
-- most $3.
DELETE FROM notifications WHERE id IN (
    SELECT n.id FROM notifications n
     WHERE NOT n.call_back AND n.read_at IS NOT NULL AND n.created_at < $2
    UNION ALL
    SELECT n.id FROM accounts a
      JOIN notifications n ON n.account_id = a.id
     WHERE a.closed_at IS NOT NULL AND a.closed_at < $1 AND NOT n.call_back
     LIMIT $3);

-- name: erase_identities
-- A person's sealed ID number and name (the keyed hashes and masks stay:
-- quotas, bars, blocks and the bookings still count and show them) once no
-- account lists them (a listed row; a removal or a closing before $1), no
-- bar or block names them until $1 or later, no booking of theirs is on or
-- after $2 (to come, or within the year), no waitlist place waits and no
-- lottery entry is live, and they were first seen before $1 ($1: a year
-- ago, the longest bar or block; $2 its day). A document the desk linked
-- to another (person_id, either way) is kept: its person's other papers
-- may be in use. The outer WHERE repeats the cheap part of the rule; the
-- rest is read once by the statement (a person added back in the same
-- instant writes their number again at their next identification:
-- restore_identity_seals).
UPDATE identities SET number_sealed = ''::BYTEA, name_sealed = ''::BYTEA
 WHERE (number_sealed <> ''::BYTEA OR name_sealed <> ''::BYTEA) AND created_at < $1
   AND id IN (SELECT i.id FROM identities i
               WHERE (i.number_sealed <> ''::BYTEA OR i.name_sealed <> ''::BYTEA) AND i.created_at < $1
                 AND i.person_id IS NULL
                 AND NOT EXISTS (SELECT 1 FROM identities l WHERE l.person_id = i.id)
                 AND NOT EXISTS (SELECT 1 FROM patients p WHERE p.identity_id = i.id AND (p.removed_at IS NULL OR p.removed_at >= $1))
                 AND NOT EXISTS (SELECT 1 FROM bars r WHERE r.identity_id = i.id AND r.until >= $1)
                 AND NOT EXISTS (SELECT 1 FROM identity_blocks k WHERE k.identity_id = i.id AND k.until >= $1)
                 AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.identity_id = i.id AND b.visit_date >= $2::DATE)
                 AND NOT EXISTS (SELECT 1 FROM waitlist w WHERE w.identity_id = i.id AND w.status = 'waiting')
                 AND NOT EXISTS (SELECT 1 FROM lottery_entries e WHERE e.identity_id = i.id AND e.status = 'entered')
               ORDER BY i.created_at
               LIMIT $3);

-- name: erase_former_names
-- The former names (曾用名) of persons erase_identities erased (their
-- sealed number is empty: restore_identity_seals writes it again when they
-- are met again): the sealed name, and the keyed hash and the date that
-- say the person had one. At most $1. Also the former names of persons
-- erased before this statement existed.
DELETE FROM identity_former_names
 WHERE id IN (SELECT f.id FROM identity_former_names f
                JOIN identities i ON i.id = f.identity_id
               WHERE i.number_sealed = ''::BYTEA
               LIMIT $1);

-- name: erase_case_texts
-- A closed case's free texts (the patient's text, the answer, the closing
-- note) once it closed before $1 (the hospital's complaint-record period,
-- three years by default). Its kind, category, dates, status, flag and who
-- answered and closed stay. Oldest closing first, at most $2.
UPDATE patient_cases SET body = '', answer = '', close_note = ''
 WHERE status = 'closed' AND closed_at < $1 AND (body <> '' OR answer <> '' OR close_note <> '')
   AND id IN (SELECT id FROM patient_cases
               WHERE status = 'closed' AND closed_at < $1 AND (body <> '' OR answer <> '' OR close_note <> '')
               ORDER BY closed_at
               LIMIT $2);
