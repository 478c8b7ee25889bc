-- Slot sources (号源): an administrator's sessions (sources.go).

-- name: session_overlap
-- Another session of the doctor, not stopped, whose time overlaps, or in
-- the same period of the same day (the partial unique index
-- clinic_sessions_one_live_per_period). A stopped clinic stays as the
-- record and blocks nothing: the half-day may be published again.
SELECT id::TEXT FROM clinic_sessions
 WHERE doctor_id = $1 AND id <> $2 AND stopped_at IS NULL
   AND ((starts_at < $4 AND ends_at > $3) OR (visit_date = $5::DATE AND period = $6))
 LIMIT 1;

-- name: session_in_use
-- $1 session, $2 now. What makes a session released for good: a booking
-- (in any state), a lottery entry, a waitlist entry, a lottery pool whose
-- window has opened at $2 (or that is drawing or drawn). A seed committed
-- for a window not yet open, with nobody entered, does not: the session
-- may be corrected, keeping its seed (update_lottery_windows). It also
-- says whether the clinic was stopped. The session row is locked so a
-- change and a first booking cannot cross.
SELECT s.id::TEXT, s.stopped_at IS NOT NULL, s.version,
       EXISTS (SELECT 1 FROM bookings b WHERE b.session_id = s.id)
    OR EXISTS (SELECT 1 FROM lottery_entries e WHERE e.session_id = s.id)
    OR EXISTS (SELECT 1 FROM lottery_pools p
                WHERE p.session_id = s.id AND (p.status <> 'open' OR p.opens_at <= $2))
    OR EXISTS (SELECT 1 FROM waitlist w WHERE w.session_id = s.id)
  FROM clinic_sessions s WHERE s.id = $1
   FOR UPDATE;

-- name: session_booked
-- $1 session. What keeps a session from being withdrawn, released or not
-- (review19b M3): a booking (in any state: its row names the session), a
-- lottery entry or a waitlist place. The session row is locked so a
-- withdrawal and a first booking cannot cross; stopped says it was stopped.
SELECT s.id::TEXT, s.stopped_at IS NOT NULL, s.version,
       EXISTS (SELECT 1 FROM bookings b WHERE b.session_id = s.id)
    OR EXISTS (SELECT 1 FROM lottery_entries e WHERE e.session_id = s.id)
    OR EXISTS (SELECT 1 FROM waitlist w WHERE w.session_id = s.id)
  FROM clinic_sessions s WHERE s.id = $1
   FOR UPDATE;

-- name: pool_in_use
-- $1 session, $2 channel, $3 the instant by which a pool counts as open
-- (now and the edit's margin). Why a pool may not change on its own
-- (updatePools): it is released by $3 (its release time, or its lottery
-- window, or its lottery drawing or drawn), or a booking (any state) holds
-- one of its slots or is of its channel, or a lottery entry is of it.
-- Empty when it may. Read after session_in_use's lock of the session row.
SELECT CASE
         WHEN EXISTS (SELECT 1 FROM session_channels c WHERE c.session_id = $1 AND c.channel = $2
                         AND CASE WHEN c.release_mode = 'lottery' THEN c.opens_at ELSE c.release_at END <= $3)
           OR EXISTS (SELECT 1 FROM lottery_pools p WHERE p.session_id = $1 AND p.channel = $2
                         AND (p.status <> 'open' OR p.opens_at <= $3))
           THEN 'released'
         WHEN EXISTS (SELECT 1 FROM bookings b JOIN slots sl ON sl.session_id = b.session_id AND sl.slot_no = b.slot_no
                       WHERE b.session_id = $1 AND (sl.channel = $2 OR b.channel = $2))
           THEN 'booked'
         WHEN EXISTS (SELECT 1 FROM lottery_entries e WHERE e.session_id = $1 AND e.channel = $2)
           THEN 'entered'
         ELSE '' END;

-- name: lock_session
-- $1 session: the row locked, whether it is stopped and its version.
SELECT stopped_at IS NOT NULL, version FROM clinic_sessions WHERE id = $1 FOR UPDATE;

-- name: bump_session
-- $1 session, $2 the version an edit was made from (0: not checked).
UPDATE clinic_sessions SET version = version + 1 WHERE id = $1 AND ($2 = 0 OR version = $2);

-- name: delete_pool_slots
DELETE FROM slots WHERE session_id = $1 AND channel = $2;

-- name: delete_pool
DELETE FROM session_channels WHERE session_id = $1 AND channel = $2;

-- name: update_lottery_windows
-- A corrected session keeps the committed seed of each pool that is still
-- a lottery: the same commitment, published, is the one its draw is
-- checked against (an administrator cannot re-roll a draw by editing the
-- session); the pool's window follows the correction.
UPDATE lottery_pools p SET opens_at = c.opens_at, draw_at = c.draw_at
  FROM session_channels c
 WHERE p.session_id = $1 AND c.session_id = p.session_id AND c.channel = p.channel
   AND c.release_mode = 'lottery';

-- name: drop_unused_lottery_pools
-- The seed of a pool the correction made no longer a lottery goes: nobody
-- entered it and it will never draw.
DELETE FROM lottery_pools p
 WHERE p.session_id = $1
   AND NOT EXISTS (SELECT 1 FROM session_channels c
                    WHERE c.session_id = p.session_id AND c.channel = p.channel AND c.release_mode = 'lottery');

-- name: update_session
-- $8: the version the edit was made from (0: not checked); nothing when the
-- session changed meanwhile.
UPDATE clinic_sessions
   SET department_id = $2, visit_date = $3::DATE, period = $4, starts_at = $5, ends_at = $6, release_mode = $7,
       version = version + 1
 WHERE id = $1 AND ($8 = 0 OR version = $8);

-- name: delete_session_slots
DELETE FROM slots WHERE session_id = $1;

-- name: delete_session_channels
DELETE FROM session_channels WHERE session_id = $1;

-- name: delete_session
DELETE FROM clinic_sessions WHERE id = $1;

-- name: stop_session
-- $1 session, $2 now, $3 reason, $4 the version the stop was made from (0:
-- any). Nothing when it is gone, stopped already or at another version; the
-- stop raises the version.
UPDATE clinic_sessions SET stopped_at = $2, stop_reason = $3, version = version + 1
 WHERE id = $1 AND stopped_at IS NULL AND ($4 = 0 OR version = $4)
RETURNING id::TEXT;

-- name: session_stopped_at
SELECT stopped_at FROM clinic_sessions WHERE id = $1;

-- name: stop_bookings
-- Every active booking of a stopped session ($1) is cancelled at $2, never
-- late (the hospital cancelled, not the patient), with its cancelled event
-- (reason session_stopped, the administrator $3 as staff) and a
-- notification for its account, or its person when no account lists it:
-- the text $6 of its booking id in $5 (naming its member), else $4.
-- The open substitute offers of the bookings held there (a substitute's
-- clinic stopped in turn) end with them: withdrawn, decided by $3; the
-- stop's notice is what tells the patient.
-- Returns how many, how many notices went to an account and how many
-- wait for a call back (no account lists the person), and how many offers
-- were withdrawn.
WITH c AS (
    UPDATE bookings SET status = 'cancelled', cancelled_at = $2, late_cancel = false
     WHERE session_id = $1 AND status IN ('confirmed', 'checked_in')
    RETURNING id, account_id, patient_id, identity_id, hospital_id, department_id, doctor_id, channel
), ev AS (
    INSERT INTO booking_events (id, ts, type, account_id, patient_id, booking_id, session_id, hospital_id,
                                department_id, doctor_id, channel, reason, staff_id, identity_id)
    SELECT gen_random_uuid(), $2::TIMESTAMPTZ, 'cancelled', account_id, patient_id, id, $1::UUID, hospital_id,
           department_id, doctor_id, channel, 'session_stopped', $3::UUID, identity_id
      FROM c
    RETURNING 1
), o AS (
    UPDATE substitute_offers SET status = 'withdrawn', decided_at = $2, decided_by = $3::UUID
     WHERE booking_id IN (SELECT id FROM c) AND status = 'offered'
    RETURNING 1
), n AS (
    INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, booking_id, body, created_at, call_back)
    SELECT gen_random_uuid(), c.hospital_id, $1::UUID, 'session_stopped', c.account_id, c.identity_id, c.id,
           COALESCE(t.body, $4::TEXT), $2::TIMESTAMPTZ, c.account_id IS NULL
      FROM c LEFT JOIN unnest($5::UUID[], $6::TEXT[]) AS t (booking_id, body) ON t.booking_id = c.id
    RETURNING account_id
)
SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM ev), (SELECT count(*) FROM n WHERE account_id IS NOT NULL),
       (SELECT count(*) FROM n WHERE account_id IS NULL), (SELECT count(*) FROM o);

-- name: waiting_of_session
-- The waiting places of a session about to be stopped and their members
-- (none for a phone caller's), for their notices.
SELECT id::TEXT, COALESCE(patient_id::TEXT, '') FROM waitlist WHERE session_id = $1 AND status = 'waiting';

-- name: stop_waitlist
-- Every waiting place of a stopped session ($1) ends at $2 or, with a
-- substitute's session $6 (NULL without, review19b L5), moves to it at $2,
-- keeping its id, its place in the line (created_at, round and key) and
-- its status; each with a notification (kind session_stopped, about the
-- stopped session): the text $5 of its id in $4 (naming its member), else
-- $3. One statement for both, so an end and a carry tell alike.
WITH c AS (
    UPDATE waitlist SET status = CASE WHEN $6::UUID IS NULL THEN 'cancelled' ELSE status END,
                        session_id = COALESCE($6::UUID, session_id), updated_at = $2
     WHERE session_id = $1 AND status = 'waiting'
    RETURNING id, hospital_id, account_id, identity_id
), n AS (
    INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, waitlist_id, body, created_at, call_back)
    SELECT gen_random_uuid(), c.hospital_id, $1::UUID, 'session_stopped', c.account_id, c.identity_id, c.id,
           COALESCE(t.body, $3::TEXT), $2::TIMESTAMPTZ, c.account_id IS NULL
      FROM c LEFT JOIN unnest($4::UUID[], $5::TEXT[]) AS t (id, body) ON t.id = c.id
    RETURNING account_id
)
SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM n WHERE account_id IS NOT NULL), (SELECT count(*) FROM n WHERE account_id IS NULL);

-- name: entries_of_session
-- The live lottery entries of a session about to be stopped and their
-- members (none for a phone caller's), for their notices.
SELECT id::TEXT, COALESCE(patient_id::TEXT, '') FROM lottery_entries
 WHERE session_id = $1 AND status IN ('entered', 'held_out');

-- name: stop_entries
-- Every live entry of a stopped session ($1) is withdrawn at $2 with a
-- notification: the text $5 of its id in $4 (naming its member), else $3.
WITH c AS (
    UPDATE lottery_entries SET status = 'withdrawn', reason = 'session_stopped', updated_at = $2
     WHERE session_id = $1 AND status IN ('entered', 'held_out')
    RETURNING id, hospital_id, account_id, identity_id
), n AS (
    INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, entry_id, body, created_at, call_back)
    SELECT gen_random_uuid(), c.hospital_id, $1::UUID, 'session_stopped', c.account_id, c.identity_id, c.id,
           COALESCE(t.body, $3::TEXT), $2::TIMESTAMPTZ, c.account_id IS NULL
      FROM c LEFT JOIN unnest($4::UUID[], $5::TEXT[]) AS t (id, body) ON t.id = c.id
    RETURNING account_id
)
SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM n WHERE account_id IS NOT NULL), (SELECT count(*) FROM n WHERE account_id IS NULL);

-- name: notifications_of_session
-- With the hospital, whose zone the times are shown in.
SELECT id::TEXT, kind, COALESCE(account_id::TEXT, ''), COALESCE(identity_id::TEXT, ''),
       COALESCE(booking_id::TEXT, ''), COALESCE(waitlist_id::TEXT, ''), COALESCE(entry_id::TEXT, ''), body, created_at,
       hospital_id::TEXT
  FROM notifications WHERE session_id = $1
 ORDER BY created_at, id;

-- name: bump_catalog
-- One row: the version of the schedule, raised by every change of it.
INSERT INTO catalog_version (id, version, changed_at) VALUES (1, 1, now())
ON CONFLICT (id) DO UPDATE SET version = catalog_version.version + 1, changed_at = now();

-- name: catalog_version
SELECT version FROM catalog_version WHERE id = 1;

-- name: insert_policy
INSERT INTO hospital_policies (id, hospital_id, effective_from, per_day, per_week, per_month, cancel_deadline,
                               reason, set_by, set_at, book_ahead_days, onsite_share, no_show_window_days,
                               no_show_steps, extra_slots_max, release_notice_hours, stop_undo_minutes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17);

-- name: insert_account_policy
INSERT INTO account_policies (id, effective_from, max_patients, max_accounts_on_phone, reason, set_by, set_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: account_policies
SELECT id::TEXT, effective_from, max_patients, max_accounts_on_phone, reason, COALESCE(set_by::TEXT, ''), set_at
  FROM account_policies
 ORDER BY effective_from, set_at;

-- name: policies
SELECT id::TEXT, hospital_id::TEXT, effective_from, per_day, per_week, per_month, cancel_deadline, reason,
       COALESCE(set_by::TEXT, ''), set_at, book_ahead_days, onsite_share, no_show_window_days, no_show_steps,
       extra_slots_max, release_notice_hours, stop_undo_minutes
  FROM hospital_policies
 ORDER BY hospital_id, effective_from, set_at;

-- name: active_of_session
-- The active bookings of a session about to be stopped: their members, and
-- with a substitute, as its session holds them (heldBooking).
SELECT id::TEXT, hospital_id::TEXT, department_id::TEXT, visit_date::TEXT, slot_no, COALESCE(patient_id::TEXT, ''),
       identity_id::TEXT, COALESCE(account_id::TEXT, ''), channel, COALESCE(booked_by::TEXT, ''), name_hash
  FROM bookings
 WHERE session_id = $1 AND status IN ('confirmed', 'checked_in')
 ORDER BY slot_no;

-- name: insert_offer
INSERT INTO substitute_offers (booking_id, original_booking_id, stopped_session_id, session_id, hospital_id, account_id,
                               identity_id, status, hold_until, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'offered', $8, $9);

-- name: offers
-- With the held booking's status and whether the substitute's clinic is
-- stopped: an offer left open over a booking that ended reads as what ended
-- it (booking.SubstituteOffer.StateAt). Completed with a WHERE clause (and
-- an order) on o and b by the store.
SELECT o.booking_id::TEXT, o.original_booking_id::TEXT, o.stopped_session_id::TEXT, o.session_id::TEXT, o.hospital_id::TEXT,
       COALESCE(o.account_id::TEXT, ''), o.identity_id::TEXT, o.status, o.hold_until, o.decided_at,
       COALESCE(o.decided_by::TEXT, ''), o.created_at, COALESCE(b.status, ''), hs.stopped_at IS NOT NULL
  FROM substitute_offers o
  LEFT JOIN bookings b ON b.id = o.booking_id
  LEFT JOIN clinic_sessions hs ON hs.id = o.session_id

-- name: settle_offer
-- An answer ($2 at $3 by $4) to the open offer of held booking $1, or the
-- settling of one left open over a booking that ended: only while the
-- booking is in status $5 (confirmed, for an answer), so nothing accepts a
-- slot cancelled, checked in or stopped meanwhile.
UPDATE substitute_offers SET status = $2, decided_at = $3, decided_by = $4
 WHERE booking_id = $1 AND status = 'offered'
   AND EXISTS (SELECT 1 FROM bookings b WHERE b.id = $1 AND b.status = $5);

-- name: settle_held_offer
-- A change of held booking $1 (a cancellation, a check-in) settles its
-- open offer in the change's own transaction: status $2 at $3 by $4.
-- Nothing when it has no open offer.
UPDATE substitute_offers SET status = $2, decided_at = $3, decided_by = $4
 WHERE booking_id = $1 AND status = 'offered';

-- name: call_backs
-- The call-back list (0036, 0037): the notices marked call_back — of
-- people on no account's list, about what happened while they were not on
-- the line (a stop, a waitlist place served, a draw) — not yet told, with
-- what the row needs: a stop's reason, the booking's channel, the person
-- masked, the number the call that made the item came from (sealed; opened
-- only for an operator who asks) and whether it is a walk-in's contact
-- number instead, the slot a substitute holds, with its held booking's
-- status and whether the substitute's clinic is stopped (so the row reads
-- the offer as it truly stands: StateAt). Completed with a WHERE clause on
-- n by the store.
SELECT n.id::TEXT, n.kind, n.hospital_id::TEXT, n.session_id::TEXT, COALESCE(n.booking_id::TEXT, ''),
       COALESCE(n.waitlist_id::TEXT, ''), COALESCE(n.entry_id::TEXT, ''), COALESCE(n.identity_id::TEXT, ''),
       COALESCE(b.channel, ''), COALESCE(i.id_type, ''), COALESCE(i.number_masked, ''), COALESCE(i.name_masked, ''),
       CASE WHEN n.kind = 'session_stopped' THEN s.stop_reason ELSE '' END, n.body, n.created_at, n.call_attempts,
       n.last_call_at, n.last_call_outcome,
       COALESCE(p.phone_masked, ''), p.phone_sealed, COALESCE(p.contact, false),
       COALESCE(o.booking_id::TEXT, ''), COALESCE(o.status, ''), o.hold_until, s.visit_date::TEXT,
       COALESCE(hb.status, ''), hs.stopped_at IS NOT NULL
  FROM notifications n
  JOIN clinic_sessions s ON s.id = n.session_id
  LEFT JOIN bookings b ON b.id = n.booking_id
  LEFT JOIN identities i ON i.id = n.identity_id
  LEFT JOIN substitute_offers o ON o.original_booking_id = n.booking_id
  LEFT JOIN bookings hb ON hb.id = o.booking_id
  LEFT JOIN clinic_sessions hs ON hs.id = o.session_id
  LEFT JOIN caller_phones p ON p.item_id = COALESCE(n.booking_id, n.waitlist_id, n.entry_id)
 WHERE n.call_back AND n.delivered_at IS NULL
   -- A booking told of that has ended since is not rung for: what ended it
   -- is told (a stop's notice) or was the person's own doing.
   AND NOT (n.kind = 'booked' AND b.status = 'cancelled')

-- name: call_backs_page
-- A page of a hospital's list ($1; call_backs' WHERE clause goes on): the
-- rows not over — their session's day ($2, the hospital's today) has not
-- passed, or a substitute's slot is still held at $3: open, and its booking
-- confirmed) — after the row at
-- ($4, $5) in (created_at, id) order, at most $6.
   AND n.hospital_id = $1
   AND (s.visit_date >= $2::DATE OR (o.status = 'offered' AND o.hold_until > $3 AND hb.status = 'confirmed'))
   AND (n.created_at > $4 OR (n.created_at = $4 AND n.id > $5::UUID))
 ORDER BY n.created_at, n.id
 LIMIT $6;

-- name: call_back_cursor
-- Where the row a page goes on after stands: any notice of the hospital's,
-- told since or not.
SELECT created_at FROM notifications WHERE id = $1 AND hospital_id = $2;

-- name: record_call_back
-- One call about a call-back row $1 at $2 by $3 with outcome $4; $5 true
-- marks it told (delivered), which takes it off the list. Nothing when it
-- is told already.
UPDATE notifications
   SET call_attempts = call_attempts + 1, last_call_at = $2, last_call_outcome = $4,
       told_by = CASE WHEN $5::BOOL THEN $3::UUID END, delivered_at = CASE WHEN $5::BOOL THEN $2::TIMESTAMPTZ END
 WHERE id = $1 AND call_back AND delivered_at IS NULL
RETURNING id::TEXT;

-- name: number_opened
-- When an operator last opened the number of a call-back row, since a time
-- (CallBackNumber's audit entry; audit_log_by_actor).
SELECT max(ts) FROM audit_log
WHERE actor_id = $1 AND ts >= $3 AND action = 'callback_number_read' AND target = 'notification:' || $2::text;

-- name: keep_caller_phone
-- The number the call that made item $1 (a booking, waitlist place or
-- entry) for identity $2 came from ($3 sealed, $4 masked), at $5; $6 true
-- when it is a walk-in's contact number instead (0038); a replay keeps the
-- first.
INSERT INTO caller_phones (item_id, identity_id, phone_sealed, phone_masked, kept_at, contact)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (item_id) DO NOTHING;

-- name: restore_lock
-- $1 a stopped session about to be restored (review19b H1): the row
-- locked, when it was stopped, whether it was restored already, and
-- whether its stop named a substitute (whose session holds its patients).
SELECT s.stopped_at, s.restored_as IS NOT NULL,
       EXISTS (SELECT 1 FROM substitute_offers o WHERE o.stopped_session_id = s.id)
  FROM clinic_sessions s WHERE s.id = $1
   FOR UPDATE;

-- name: restore_moved
-- $1 the copy a restore published of a clinic moved to another time: it
-- keeps the move's record ($2 moved_at, $3 moved_from), so the move's free
-- cancellation holds for its restored bookings (review22 L3).
UPDATE clinic_sessions SET moved_at = $2, moved_from = $3 WHERE id = $1;

-- name: booked_at
-- $1 a booking: when it was made.
SELECT created_at FROM bookings WHERE id = $1;

-- name: mark_restored
UPDATE clinic_sessions SET restored_as = $2 WHERE id = $1;

-- name: stopped_bookings
-- The bookings the stop of $1 cancelled (their cancelled event says
-- session_stopped), as active_of_session reads a stop's.
SELECT b.id::TEXT, b.hospital_id::TEXT, b.department_id::TEXT, b.visit_date::TEXT, b.slot_no, COALESCE(b.patient_id::TEXT, ''),
       b.identity_id::TEXT, COALESCE(b.account_id::TEXT, ''), b.channel, COALESCE(b.booked_by::TEXT, ''), b.name_hash
  FROM bookings b
 WHERE b.session_id = $1 AND b.status = 'cancelled'
   AND EXISTS (SELECT 1 FROM booking_events e WHERE e.booking_id = b.id AND e.type = 'cancelled' AND e.reason = 'session_stopped')
 ORDER BY b.slot_no;

-- name: booked_same_day
-- Whether identity $1 holds an active booking on $2 in department $3: a
-- restored booking would be its second, which the unique index refuses.
SELECT EXISTS (SELECT 1 FROM bookings WHERE identity_id = $1 AND visit_date = $2::DATE AND department_id = $3
                  AND status IN ('confirmed', 'checked_in'));

-- name: insert_session_notification
-- A notification about a session ($3) and a booking ($6) of it, for an
-- account ($4) or, when none, the person ($5) on the call-back list.
INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, booking_id, body, created_at, call_back)
VALUES ($1, $2, $3, $7, $4, $5, $6, $8, $9, $4::UUID IS NULL);

-- name: announce_session
-- $1 session, $2 room, $3 delay in minutes, $4 the version the change was
-- made from: the room and the delay set, the version raised. Nothing when
-- the session changed meanwhile (or is gone).
UPDATE clinic_sessions SET room = $2, delay_minutes = $3, version = version + 1
 WHERE id = $1 AND version = $4
RETURNING version;

-- name: told_of_session
-- Whom a change of session $1 (review19b M5) tells: its active bookings,
-- waiting places and live lottery entries, with their members (none for a
-- phone caller's or a walk-in's), for the notices that name them.
SELECT id::TEXT, COALESCE(patient_id::TEXT, '') FROM bookings WHERE session_id = $1 AND status IN ('confirmed', 'checked_in')
UNION ALL
SELECT id::TEXT, COALESCE(patient_id::TEXT, '') FROM waitlist WHERE session_id = $1 AND status = 'waiting'
UNION ALL
SELECT id::TEXT, COALESCE(patient_id::TEXT, '') FROM lottery_entries WHERE session_id = $1 AND status IN ('entered', 'held_out');

-- name: tell_session
-- A change of session $1 told at $2 (kind $6: session_changed, or
-- session_moved) to each of its
-- active bookings, waiting places and live lottery entries: to its account,
-- or, when no account lists the person (a phone caller, a walk-in), on the
-- hospital's call-back list, as a stop's notices go. The text $5 of its id
-- in $4 (naming its member), else $3. One INSERT (CockroachDB refuses two
-- writes of a table in one statement). Returns each notice's account.
INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, booking_id, waitlist_id, entry_id, body,
                           created_at, call_back)
SELECT gen_random_uuid(), x.hospital_id, $1::UUID, $6::TEXT, x.account_id, x.identity_id, x.booking_id, x.waitlist_id,
       x.entry_id, COALESCE(t.body, $3::TEXT), $2::TIMESTAMPTZ, x.account_id IS NULL
  FROM (SELECT id, hospital_id, account_id, identity_id, id AS booking_id, NULL::UUID AS waitlist_id, NULL::UUID AS entry_id
          FROM bookings WHERE session_id = $1 AND status IN ('confirmed', 'checked_in')
        UNION ALL
        SELECT id, hospital_id, account_id, identity_id, NULL::UUID, id, NULL::UUID
          FROM waitlist WHERE session_id = $1 AND status = 'waiting'
        UNION ALL
        SELECT id, hospital_id, account_id, identity_id, NULL::UUID, NULL::UUID, id
          FROM lottery_entries WHERE session_id = $1 AND status IN ('entered', 'held_out')) AS x
  LEFT JOIN unnest($4::UUID[], $5::TEXT[]) AS t (id, body) ON t.id = x.id
RETURNING account_id IS NULL;

-- name: move_conflicts
-- The active bookings of session $1 whose person holds another active
-- booking in its department $3 on the day $2 it moves to: the unique index
-- allows one, so the moved one is cancelled (the other was the patient's
-- own choice for that day).
SELECT b.id::TEXT, COALESCE(b.patient_id::TEXT, '') FROM bookings b
 WHERE b.session_id = $1 AND b.status IN ('confirmed', 'checked_in')
   AND EXISTS (SELECT 1 FROM bookings o WHERE o.identity_id = b.identity_id AND o.visit_date = $2::DATE
                  AND o.department_id = $3 AND o.session_id <> $1 AND o.status IN ('confirmed', 'checked_in'));

-- name: cancel_moved
-- The bookings $3 of moved session $1 cancelled at $2, never late, with
-- their cancelled event (reason session_moved, the administrator $4 as
-- staff) and a session_moved notice: the text $6 of its id in $5 (naming
-- its member), else $7. Returns how many went to an account and how many
-- to the call-back list.
WITH c AS (
    UPDATE bookings SET status = 'cancelled', cancelled_at = $2, late_cancel = false
     WHERE session_id = $1 AND id = ANY($3::UUID[]) AND status IN ('confirmed', 'checked_in')
    RETURNING id, account_id, patient_id, identity_id, hospital_id, department_id, doctor_id, channel
), ev AS (
    INSERT INTO booking_events (id, ts, type, account_id, patient_id, booking_id, session_id, hospital_id,
                                department_id, doctor_id, channel, reason, staff_id, identity_id)
    SELECT gen_random_uuid(), $2::TIMESTAMPTZ, 'cancelled', account_id, patient_id, id, $1::UUID, hospital_id,
           department_id, doctor_id, channel, 'session_moved', $4::UUID, identity_id
      FROM c
    RETURNING 1
), n AS (
    INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, booking_id, body, created_at, call_back)
    SELECT gen_random_uuid(), c.hospital_id, $1::UUID, 'session_moved', c.account_id, c.identity_id, c.id,
           COALESCE(t.body, $7::TEXT), $2::TIMESTAMPTZ, c.account_id IS NULL
      FROM c LEFT JOIN unnest($5::UUID[], $6::TEXT[]) AS t (booking_id, body) ON t.booking_id = c.id
    RETURNING account_id
)
SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM n WHERE account_id IS NOT NULL), (SELECT count(*) FROM n WHERE account_id IS NULL);

-- name: move_session
-- $1 session moved at $2 to day $3, period $4, $5–$6, from the version
-- $7; the first move keeps where it started before ($8). A delay was of
-- the old day: the moved clinic starts on time (review22 L2). Nothing when
-- the session changed meanwhile.
UPDATE clinic_sessions SET visit_date = $3::DATE, period = $4, starts_at = $5, ends_at = $6, moved_at = $2,
       moved_from = COALESCE(moved_from, $8), delay_minutes = 0, version = version + 1
 WHERE id = $1 AND version = $7
RETURNING version;

-- name: move_slots
-- Every slot of session $1 (extra slots too) shifted by $2 seconds.
UPDATE slots SET starts_at = starts_at + $2::INT8 * INTERVAL '1 second', ends_at = ends_at + $2::INT8 * INTERVAL '1 second'
 WHERE session_id = $1;

-- name: move_bookings
-- The bookings of session $1 (of every status: the record follows the
-- clinic) on its new day $2.
UPDATE bookings SET visit_date = $2::DATE WHERE session_id = $1;

-- name: active_bookings_of_session
SELECT count(*) FROM bookings WHERE session_id = $1 AND status IN ('confirmed', 'checked_in');

-- name: set_holiday
-- $1 hospital, $2 day, $3 name, $4 who, $5 when, $6 the weekday a make-up
-- working day stands in for (0: a day off): a day of the hospital's
-- calendar, replaced when it is there already.
INSERT INTO hospital_holidays (hospital_id, day, name, set_by, set_at, works_as) VALUES ($1, $2::DATE, $3, $4, $5, $6)
ON CONFLICT (hospital_id, day) DO UPDATE
   SET name = excluded.name, set_by = excluded.set_by, set_at = excluded.set_at, works_as = excluded.works_as;

-- name: delete_holiday
DELETE FROM hospital_holidays WHERE hospital_id = $1 AND day = $2::DATE RETURNING day;

-- name: holidays
-- $1 hospital, $2 and $3 the first and last day.
SELECT hospital_id::TEXT, day::TEXT, name, COALESCE(set_by::TEXT, ''), set_at, works_as
  FROM hospital_holidays
 WHERE hospital_id = $1 AND day BETWEEN $2::DATE AND $3::DATE
 ORDER BY day;
