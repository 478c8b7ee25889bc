-- Reports (举报), complaints (投诉) and the patients' notifications
-- (cases.go).

-- name: insert_case
INSERT INTO patient_cases (id, kind, account_id, hospital_id, category, booking_id, offered_phone_hash,
                           offered_phone_masked, offered_account, body, several_departments, status, created_at, due_at,
                           flag_id, offered_account_masked, folded_into, identity_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $13, $14, $15, $16, $17);

-- name: blocked_until
-- When an account's block ends (NULL: until lifted).
SELECT blocked_until FROM accounts WHERE id = $1;

-- name: blocking_flag
-- The confirmed flag, latest decided, that names an account: its block.
SELECT id FROM flags WHERE status = 'confirmed' AND account_ids @> to_jsonb(ARRAY[$1::TEXT])
 ORDER BY decided_at DESC LIMIT 1;

-- name: lift_account_block
UPDATE accounts SET blocked = false, blocked_until = NULL WHERE id = $1;

-- name: lift_identity_blocks
-- The blocks of the account's people end now (a confirmed flag blocked
-- them with the account); the keys of the persons whose blocks ended.
WITH lifted AS (
  UPDATE identity_blocks SET until = $2
   WHERE until > $2 AND identity_id IN (SELECT identity_id FROM patients WHERE account_id = $1)
  RETURNING identity_id)
SELECT DISTINCT i.id_hash FROM lifted JOIN identities i ON i.id = lifted.identity_id;

-- name: flag_accounts_blocked
-- How many of a flag's accounts are still blocked.
SELECT count(*) FROM accounts a, flags f
 WHERE f.id = $1 AND a.blocked AND f.account_ids @> jsonb_build_array(a.id::TEXT);

-- name: overturn_flag
-- An upheld appeal left none of the flag's accounts blocked: the record
-- says overturned (review21 M3).
UPDATE flags SET status = 'overturned', overturned_by = $2, overturned_at = $3, updated_at = $3
 WHERE id = $1 AND status = 'confirmed';

-- name: lift_flag_blocks
-- Every person's block by an overturned flag ends now; their keys.
WITH lifted AS (
  UPDATE identity_blocks SET until = $2 WHERE flag_id = $1 AND until > $2 RETURNING identity_id)
SELECT DISTINCT i.id_hash FROM lifted JOIN identities i ON i.id = lifted.identity_id;

-- name: lift_person_block
-- A person's appeal upheld: their block by the flag ends now, naming the
-- appeal; their key.
WITH lifted AS (
  UPDATE identity_blocks SET until = $3, lifted_by_case = $4
   WHERE flag_id = $1 AND identity_id = $2 AND until > $3 RETURNING identity_id)
SELECT i.id_hash FROM lifted JOIN identities i ON i.id = lifted.identity_id;

-- name: review_block
-- The confirmed flag whose block of a person is in force, the latest ending.
SELECT k.flag_id, k.until FROM identity_blocks k JOIN flags f ON f.id = k.flag_id
 WHERE k.identity_id = $1 AND k.until > $2 AND f.status = 'confirmed'
 ORDER BY k.until DESC LIMIT 1;

-- name: person_appeal_pending
SELECT EXISTS (SELECT 1 FROM patient_cases WHERE kind = 'appeal' AND identity_id = $1 AND status = 'open');

-- name: open_cases
SELECT count(*) FROM patient_cases WHERE account_id = $1 AND status = 'open';

-- name: case_columns
SELECT id::TEXT, kind, account_id::TEXT, hospital_id::TEXT, category, COALESCE(booking_id::TEXT, ''),
       offered_phone_hash, offered_phone_masked, offered_account, body, several_departments, status, created_at, due_at,
       answer, COALESCE(answered_by::TEXT, ''), answered_at, close_note, COALESCE(closed_by::TEXT, ''), closed_at, flag_id,
       offered_account_masked, COALESCE(folded_into::TEXT, ''), COALESCE(identity_id::TEXT, '')
  FROM patient_cases;

-- name: answer_case
-- The first answer's time and author stay (the deadline is judged by it);
-- a later answer replaces the text.
UPDATE patient_cases
   SET answer = $2, flag_id = CASE WHEN $3::TEXT = '' THEN flag_id ELSE $3::TEXT END,
       status = CASE WHEN $4::BOOL THEN 'closed' ELSE 'answered' END,
       answered_by = COALESCE(answered_by, $5::UUID), answered_at = COALESCE(answered_at, $6::TIMESTAMPTZ),
       closed_by = CASE WHEN $4::BOOL THEN $5::UUID ELSE closed_by END,
       closed_at = CASE WHEN $4::BOOL THEN $6::TIMESTAMPTZ ELSE closed_at END
 WHERE id = $1 AND status <> 'closed';

-- name: set_case_departments
-- An administrator's say on several departments, and the deadline that
-- follows (review18b L4).
UPDATE patient_cases SET several_departments = $2, due_at = $3 WHERE id = $1 AND status <> 'closed';

-- name: close_case
UPDATE patient_cases SET status = 'closed', close_note = $2, closed_by = $3, closed_at = $4
 WHERE id = $1 AND status <> 'closed';

-- name: insert_notification
INSERT INTO notifications (id, hospital_id, kind, account_id, case_id, body, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: account_notifications
SELECT id::TEXT, kind, COALESCE(hospital_id::TEXT, ''), COALESCE(booking_id::TEXT, ''), COALESCE(waitlist_id::TEXT, ''),
       COALESCE(entry_id::TEXT, ''), COALESCE(case_id::TEXT, ''), body, created_at, read_at
  FROM notifications WHERE account_id = $1
 ORDER BY created_at DESC, id
 LIMIT $2;

-- name: mark_notification_read
-- One notification of the account read; one read already keeps its time.
UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND account_id = $2;

-- name: mark_notifications_read
UPDATE notifications SET read_at = $2 WHERE account_id = $1 AND read_at IS NULL;

-- name: undelivered_notifications
-- An account's only (the partial index notifications_to_deliver, 0035): a
-- person on no account's list is reached by a call back, not by the job.
SELECT id::TEXT, kind, COALESCE(hospital_id::TEXT, ''), COALESCE(account_id::TEXT, ''), COALESCE(identity_id::TEXT, ''),
       COALESCE(booking_id::TEXT, ''), COALESCE(waitlist_id::TEXT, ''), COALESCE(entry_id::TEXT, ''),
       COALESCE(case_id::TEXT, ''), body, created_at
  FROM notifications WHERE delivered_at IS NULL AND account_id IS NOT NULL
 ORDER BY created_at, id
 LIMIT $1;

-- name: mark_delivered
UPDATE notifications SET delivered_at = $2 WHERE id = ANY($1::UUID[]) AND delivered_at IS NULL;

-- name: last_event_notification
SELECT COALESCE(max(created_at), '0001-01-01T00:00:00Z'::TIMESTAMPTZ) FROM notifications WHERE event_id IS NOT NULL;

-- name: events_to_notify
-- The events the notify job tells patients about, from $1 on, those at $1
-- itself after the id $3 (a page goes on where the one before ended; the
-- predicate of the partial index booking_events_notify_read, 0040).
 WHERE ts >= $1 AND (ts > $1 OR id > $3::UUID)
   AND type IN ('booked', 'cancelled', 'no_show', 'lottery_entered', 'waitlisted')
 ORDER BY ts, id LIMIT $2;

-- name: insert_entry_notifications
-- A draw's notifications to the entrants it did not book (FinishDraw, in
-- the draw's transaction); one already written (its id) is skipped.
INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, entry_id, body, created_at, call_back)
SELECT t.id, t.hospital_id, t.session_id, t.kind, t.account_id, t.identity_id, t.entry_id, t.body, t.created_at, t.call_back
  FROM unnest($1::UUID[], $2::UUID[], $3::UUID[], $4::TEXT[], $5::UUID[], $6::UUID[], $7::UUID[], $8::TEXT[],
              $9::TIMESTAMPTZ[], $10::BOOL[])
       AS t (id, hospital_id, session_id, kind, account_id, identity_id, entry_id, body, created_at, call_back)
ON CONFLICT DO NOTHING;

-- name: insert_event_notifications
-- Notifications derived from events; one already told (its event_id and
-- kind) is skipped.
INSERT INTO notifications (id, event_id, hospital_id, session_id, kind, account_id, identity_id, booking_id, entry_id, body, created_at, call_back,
                           waitlist_id)
SELECT t.id, t.event_id, t.hospital_id, t.session_id, t.kind, t.account_id, t.identity_id, t.booking_id, t.entry_id, t.body, t.created_at, t.call_back,
       t.waitlist_id
  FROM unnest($1::UUID[], $2::UUID[], $3::UUID[], $4::UUID[], $5::TEXT[], $6::UUID[], $7::UUID[], $8::UUID[], $9::UUID[], $10::TEXT[],
              $11::TIMESTAMPTZ[], $12::BOOL[], $13::UUID[])
       AS t (id, event_id, hospital_id, session_id, kind, account_id, identity_id, booking_id, entry_id, body, created_at, call_back, waitlist_id)
ON CONFLICT DO NOTHING;

-- name: verified_self_accounts
-- The accounts holding identities $1 as their verified self (bound by the
-- desk, under the verified name: Patient.Verified's rule), to tell them of
-- what other accounts made for them; at most one per identity
-- (patients_self_identity).
SELECT p.identity_id::TEXT, p.account_id::TEXT
  FROM patients p JOIN identities i ON i.id = p.identity_id
 WHERE p.identity_id = ANY($1::UUID[]) AND p.is_self AND p.removed_at IS NULL
   AND p.self_verified_at IS NOT NULL AND i.name_verified_at IS NOT NULL
   AND COALESCE(p.name_hash, i.name_hash) = i.name_hash;
