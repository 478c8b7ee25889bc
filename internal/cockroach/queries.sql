-- Queries of the booking store, one per "-- name:" block, loaded by
-- queries.go. Dates travel as text (YYYY-MM-DD) and ids as text, with casts
-- that PostgreSQL and CockroachDB both accept.

-- name: hospitals
SELECT id::TEXT, name, time_zone, per_day, per_week, per_month, cancel_deadline FROM hospitals;

-- name: departments
SELECT id::TEXT, hospital_id::TEXT, name, retired_at FROM departments;

-- name: doctors
SELECT id::TEXT, hospital_id::TEXT, department_id::TEXT, name, title, fee_level, retired_at FROM doctors;

-- name: sessions_from
SELECT id::TEXT, hospital_id::TEXT, department_id::TEXT, doctor_id::TEXT, visit_date::TEXT,
       period, starts_at, ends_at, release_mode, stopped_at, stop_reason, version, room, delay_minutes, moved_from, moved_at
  FROM clinic_sessions
 WHERE visit_date >= $1::DATE;

-- name: channels_from
-- Each pool with its release mode and, for a lottery pool whose seed is
-- committed, its draw's public record.
SELECT c.session_id::TEXT, c.channel, c.quota, c.release_at, c.release_mode, c.opens_at, c.draw_at, c.published_at,
       lp.session_id IS NOT NULL, lp.commitment, COALESCE(lp.commitment_recipe, 0), lp.seed, COALESCE(lp.status, ''), lp.drawn_at, lp.entries_digest,
       COALESCE(lp.slots, 0), COALESCE(lp.entries, 0), COALESCE(lp.eligible, 0), COALESCE(lp.held_out, 0),
       COALESCE(lp.excluded, 0), COALESCE(lp.winners, 0), lp.unverified
  FROM session_channels c JOIN clinic_sessions s ON s.id = c.session_id
  LEFT JOIN lottery_pools lp ON lp.session_id = c.session_id AND lp.channel = c.channel
 WHERE s.visit_date >= $1::DATE
 ORDER BY c.session_id, c.channel;

-- name: slots_from
SELECT sl.session_id::TEXT, sl.slot_no, sl.channel, sl.starts_at, sl.ends_at
  FROM slots sl JOIN clinic_sessions s ON s.id = sl.session_id
 WHERE s.visit_date >= $1::DATE
 ORDER BY sl.session_id, sl.slot_no;

-- name: insert_hospital
INSERT INTO hospitals (id, name, time_zone, per_day, per_week, per_month, cancel_deadline)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO NOTHING;

-- name: insert_department
INSERT INTO departments (id, hospital_id, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING;

-- name: insert_doctor
INSERT INTO doctors (id, hospital_id, department_id, name, title, fee_level) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO NOTHING;

-- name: insert_session
INSERT INTO clinic_sessions (id, hospital_id, department_id, doctor_id, visit_date, period,
                             starts_at, ends_at, release_mode, room, delay_minutes)
VALUES ($1, $2, $3, $4, $5::DATE, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO NOTHING;

-- name: insert_channel
INSERT INTO session_channels (session_id, channel, quota, release_at, release_mode, opens_at, draw_at, published_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (session_id, channel) DO NOTHING;

-- name: insert_slot
INSERT INTO slots (session_id, slot_no, channel, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (session_id, slot_no) DO NOTHING;

-- name: insert_account
INSERT INTO accounts (id, role, phone_hash, phone_sealed, phone_masked, password_hash, created_at, hospital_id, staff_name, privacy_consent_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: account_rows
SELECT id::TEXT, role, phone_hash, phone_masked, password_hash,
       blocked AND (blocked_until IS NULL OR blocked_until > now()), created_at,
       COALESCE(hospital_id::TEXT, ''), token_generation, disabled_at IS NOT NULL, closed_at IS NOT NULL,
       credentials_changed_at, closing_due_at, COALESCE(privacy_consent_version, '')
  FROM accounts

-- name: insert_consent
-- A consent to the privacy notice (booking.Consent): never updated.
INSERT INTO privacy_consents (id, account_id, patient_id, identity_id, notice_version, given_by, channel, staff_id, given_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: clear_consent_due
-- The person's own consent, given on $2 (China's calendar) or later, ends
-- the ask of a child listed before 14 (patients.consent_due_on, 0079): on
-- the listing row it was given for ($3), or, given at the desk or on the
-- phone ($3 NULL) or from the account holding the person as its verified
-- self, on every account's listing of the person.
UPDATE patients SET consent_due_on = NULL
 WHERE identity_id = $1 AND consent_due_on IS NOT NULL AND consent_due_on <= $2::DATE
   AND ($3::UUID IS NULL OR id = $3
        OR EXISTS (SELECT 1 FROM patients s WHERE s.id = $3 AND s.is_self AND s.self_verified_at IS NOT NULL AND s.removed_at IS NULL));

-- name: unread_listings
-- Listings 0087 marked for their 14th-birthday day (made before 0084):
-- the document's number sealed, for the service to read the birth date.
SELECT p.id::TEXT, p.created_at, i.id_type, i.number_sealed
  FROM patients p JOIN identities i ON i.id = p.identity_id
 WHERE p.consent_due_unread
 ORDER BY p.id
 LIMIT $1;

-- name: set_consent_due
-- A marked listing's day ($2, '' for none), unless the person's own
-- consent was recorded from that day's start ($3) on, for this listing or
-- for every listing of them, as clear_consent_due would have ended it; the
-- mark cleared either way.
UPDATE patients SET consent_due_unread = false,
       consent_due_on = CASE WHEN $2::TEXT = '' OR EXISTS (
           SELECT 1 FROM privacy_consents c
            WHERE c.identity_id = patients.identity_id AND c.given_by <> 'guardian' AND c.given_at >= $3
              AND (c.patient_id IS NULL OR c.patient_id = patients.id
                   OR EXISTS (SELECT 1 FROM patients s WHERE s.id = c.patient_id AND s.is_self AND s.self_verified_at IS NOT NULL AND s.removed_at IS NULL)))
         THEN NULL ELSE NULLIF($2::TEXT, '')::DATE END
 WHERE id = $1 AND consent_due_unread;

-- name: bindings_to_review
-- Accounts' selves the binding rule (session 24) would refuse or question,
-- of accounts not closed: bound at the desk with no binding audited as
-- "its login number rung" (every binding before the rule); the self's
-- person also listed on the account as a spouse, child or parent (another
-- document of theirs, linked); a self born in or after $1 (possibly under
-- 14). Oldest binding first; an administrator's occasional read.
SELECT * FROM (
  SELECT a.id::TEXT AS account_id, a.phone_masked, p.id::TEXT AS patient_id, p.name_masked, i.number_masked,
         COALESCE(p.birth_year, 0) AS birth_year, p.self_verified_at AS bound_at,
         p.self_verified_at IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM audit_log l
            WHERE l.action IN ('identity_verified', 'identity_name_corrected') AND l.target = 'identity:' || p.identity_id::TEXT
              AND strpos(l.reason, 'self of account ' || p.account_id::TEXT || ', its login number rung') > 0) AS no_ring,
         EXISTS (
           SELECT 1 FROM patients f JOIN identities fi ON fi.id = f.identity_id
            WHERE f.account_id = p.account_id AND f.id <> p.id AND f.removed_at IS NULL
              AND f.relationship IN ('spouse', 'child', 'parent')
              AND COALESCE(fi.person_id, fi.id) = COALESCE(i.person_id, i.id)) AS family_too,
         COALESCE(p.birth_year, 0) >= $1 AS minor
    FROM patients p JOIN accounts a ON a.id = p.account_id JOIN identities i ON i.id = p.identity_id
   WHERE p.is_self AND p.removed_at IS NULL AND a.closed_at IS NULL
) b
 WHERE no_ring OR family_too OR minor
 ORDER BY bound_at IS NOT NULL, bound_at, patient_id;

-- name: account_consented
-- The notice version an account last agreed to (its own consent).
UPDATE accounts SET privacy_consent_version = $2 WHERE id = $1 AND role = 'patient';

-- name: consents_of_account
SELECT id::TEXT, COALESCE(account_id::TEXT, ''), COALESCE(patient_id::TEXT, ''), COALESCE(identity_id::TEXT, ''),
       notice_version, given_by, channel, COALESCE(staff_id::TEXT, ''), given_at
  FROM privacy_consents
 WHERE account_id = $1
 ORDER BY given_at, id;

-- name: account_by_phone
 WHERE phone_hash = $1;

-- name: account_by_id
 WHERE id = $1;

-- name: revoke_tokens
-- Logout and password change: older tokens stop counting. With a new
-- password hash ($3 not empty) it is set in the same write.
-- A closed account is never written (no row: nothing is minted), so a
-- change already running when the account closes cannot bring it back.
UPDATE accounts
   SET token_generation = token_generation + 1, tokens_revoked_at = $2,
       password_hash = CASE WHEN $3::TEXT = '' THEN password_hash ELSE $3::TEXT END,
       credentials_changed_at = CASE WHEN $3::TEXT = '' THEN credentials_changed_at ELSE $2 END
 WHERE id = $1 AND closed_at IS NULL
RETURNING token_generation;

-- name: close_account
-- An open account is closed ($2 the time): its login number's keyed hash
-- gives way to a tombstone ($3, no number's hash), so the number is free;
-- the sealed number and the password hash go; every token ends in the same
-- write. No row: no such account, closed already, or blocked (a block in
-- force, confirmed since the closing read the account: review19c L1;
-- account_closing_state tells which).
-- $4 the clerk of a desk closing (NULL: the holder's own), $5 whether the
-- clerk said the login was taken: kept for the job that sweeps it again.
-- A pending closing (closing_due_at) is done with.
UPDATE accounts
   SET closed_at = $2, phone_hash = $3, phone_sealed = ''::BYTEA, password_hash = '',
       token_generation = token_generation + 1, tokens_revoked_at = $2,
       closed_by = $4, closed_taken = $5, closing_due_at = NULL
 WHERE id = $1 AND closed_at IS NULL AND role = 'patient'
   AND NOT (blocked AND (blocked_until IS NULL OR blocked_until > now()))
RETURNING token_generation;

-- name: account_closing_state
-- Why close_account wrote no row: whether the account is open and blocked.
SELECT closed_at IS NULL AND blocked AND (blocked_until IS NULL OR blocked_until > now()) FROM accounts WHERE id = $1;

-- name: closed_accounts_left
-- Accounts closed since $2, or whose online closing is pending, that still
-- have something they made live: a confirmed booking of a session not
-- started at $1, a waiting waitlist place, a lottery entry still entered
-- (what a closing's second sweep, or a pending closing's request, did not
-- cancel, or a booking another instance took before it learnt of the
-- request). The job (closed accounts) sweeps them again.
SELECT a.id::TEXT, COALESCE(a.closed_by::TEXT, ''), a.closed_taken, a.closed_at IS NULL FROM accounts a
 WHERE (a.closed_at IS NOT NULL AND a.closed_at > $2 OR a.closed_at IS NULL AND a.closing_due_at IS NOT NULL)
   AND (EXISTS (SELECT 1 FROM bookings b JOIN clinic_sessions cs ON cs.id = b.session_id
                 WHERE b.account_id = a.id AND b.status = 'confirmed' AND cs.starts_at > $1)
     OR EXISTS (SELECT 1 FROM waitlist w WHERE w.account_id = a.id AND w.status = 'waiting')
     OR EXISTS (SELECT 1 FROM lottery_entries e WHERE e.account_id = a.id AND e.status = 'entered'))
 ORDER BY a.closed_at IS NOT NULL, a.closed_at, a.id
 LIMIT 100;

-- name: request_closing
-- The holder's online closing is pending until $3 (review19c M6): every
-- token ends in the same write; a login comes back in and shows it. No row: closed, pending already, or blocked (a block in force;
-- account_closing_state tells which).
UPDATE accounts
   SET closing_due_at = $3, token_generation = token_generation + 1, tokens_revoked_at = $2
 WHERE id = $1 AND closed_at IS NULL AND closing_due_at IS NULL AND role = 'patient'
   AND NOT (blocked AND (blocked_until IS NULL OR blocked_until > now()))
RETURNING token_generation;

-- name: cancel_closing
-- The holder (or a change of the password or number) cancels the
-- account's pending closing. No row: none pending (completed, cancelled
-- meanwhile, or never asked).
UPDATE accounts SET closing_due_at = NULL
 WHERE id = $1 AND closing_due_at IS NOT NULL AND closed_at IS NULL
RETURNING id::TEXT;

-- name: pending_closings
-- Open accounts whose online closing is pending, whenever due (the partial
-- index accounts_closing_due holds only those): each instance reads them
-- every second to refuse their new bookings (session 24).
SELECT id::TEXT FROM accounts WHERE closing_due_at IS NOT NULL AND closed_at IS NULL;

-- name: closings_due
-- Open accounts whose pending closing is due at $1, the earliest first.
SELECT id::TEXT FROM accounts
 WHERE closing_due_at IS NOT NULL AND closing_due_at <= $1 AND closed_at IS NULL
 ORDER BY closing_due_at, id
 LIMIT 100;

-- name: future_bookings_made_by
-- The confirmed bookings account $1 made whose session has not started at
-- $2: what a closing cancels, however long the account's history (not the
-- page's newest 500: review19c L5).
 WHERE b.account_id = $1 AND b.status = 'confirmed'
   AND EXISTS (SELECT 1 FROM clinic_sessions cs WHERE cs.id = b.session_id AND cs.starts_at > $2)
 ORDER BY b.created_at, b.id;

-- name: release_account_patients
-- A closed account's list: every row removed (a removal's time kept), its
-- number's keyed hash gone (as lock_patient_for_removal does), and the
-- self released, bound or claimed, so another account may claim or the
-- desk bind the person. The rows stay, with their relationship (本人 shows
-- whose it was); the job erases what is sealed after the grace
-- (erase_removed_members).
UPDATE patients SET removed_at = COALESCE(removed_at, $2), phone_hash = NULL, is_self = false, self_verified_at = NULL
 WHERE account_id = $1 AND (removed_at IS NULL OR is_self OR phone_hash IS NOT NULL);

-- name: drop_reset_code
DELETE FROM password_reset_codes WHERE account_id = $1;

-- name: account_of_self
-- The open patient account whose self (本人, bound or claimed) is the
-- identity $1: at most one (patients_self_identity).
SELECT p.account_id::TEXT FROM patients p JOIN accounts a ON a.id = p.account_id
 WHERE p.identity_id = $1 AND p.is_self AND p.removed_at IS NULL AND a.closed_at IS NULL;

-- name: overdue_flags
-- Open flags opened before $1: past their decision deadline (review21 M1).
SELECT count(*) FROM flags WHERE status = 'open' AND COALESCE(opened_at, created_at) < $1;

-- name: account_under_review
-- Whether an open (not yet decided) detector flag names the account $1.
SELECT EXISTS (SELECT 1 FROM flags WHERE status = 'open' AND account_ids @> jsonb_build_array($1::TEXT));

-- name: revocations_since
SELECT id::TEXT, token_generation, tokens_revoked_at FROM accounts WHERE tokens_revoked_at >= $1;

-- name: insert_event
INSERT INTO booking_events (id, ts, type, account_id, patient_id, booking_id, session_id,
                            hospital_id, department_id, doctor_id, channel, ip, device_id,
                            phone, release_at, reason, staff_id, identity_id,
                            presented_identity_id, presented_on_account, by_account_id,
                            made_by_other_account, card_source)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, NULLIF($23, ''));

-- name: disable_account
-- `fairslot staff disable`: the account's tokens end in the same write.
UPDATE accounts
   SET disabled_at = $2, token_generation = token_generation + 1, tokens_revoked_at = $2
 WHERE id = $1 AND disabled_at IS NULL
RETURNING token_generation;

-- name: enable_account
UPDATE accounts SET disabled_at = NULL
 WHERE id = $1 AND disabled_at IS NOT NULL
RETURNING token_generation;

-- name: staff_accounts
-- `fairslot staff list`: the staff of a hospital ($1, or every one), or the
-- one of a phone ($2), with their last login still in the events and their
-- hospital's time zone (none for a platform-wide administrator).
SELECT a.id::TEXT, a.role, COALESCE(a.hospital_id::TEXT, ''), a.staff_name, a.phone_masked,
       a.created_at, a.disabled_at,
       (SELECT max(e.ts) FROM booking_events e WHERE e.account_id = a.id AND e.type = 'login'),
       COALESCE(h.time_zone, ''), a.credentials_changed_at
  FROM accounts a
  LEFT JOIN hospitals h ON h.id = a.hospital_id
 WHERE a.role <> 'patient'
   AND ($1::TEXT = '' OR a.hospital_id::TEXT = $1::TEXT)
   AND ($2::BYTEA IS NULL OR a.phone_hash = $2::BYTEA)
 ORDER BY COALESCE(a.hospital_id::TEXT, ''), a.role, a.created_at, a.id;

-- name: insert_audit
INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason, hospital_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: insert_audit_of_person
-- A copy of an audit entry of a change to a person ($1) for every other
-- hospital ($8 the entry's own) where the person holds a confirmed booking,
-- a lottery entry taking part or a waiting waitlist place: that hospital's
-- administrator reads it (a clerk anywhere may verify a person). Every
-- placeholder in the select list is cast: CockroachDB does not type one from
-- the INSERT's columns there.
INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason, hospital_id)
SELECT gen_random_uuid(), $2::TIMESTAMPTZ, $3::UUID, $4::TEXT, $5::TEXT, $6::TEXT, $7::TEXT, h.hospital_id
  FROM (SELECT hospital_id FROM bookings WHERE identity_id = $1 AND status = 'confirmed'
        UNION SELECT hospital_id FROM lottery_entries WHERE identity_id = $1 AND status = 'entered'
        UNION SELECT hospital_id FROM waitlist WHERE identity_id = $1 AND status = 'waiting') AS h
 WHERE h.hospital_id IS DISTINCT FROM $8::UUID;

-- name: hospitals_of_person
-- The hospitals where person $1 holds a confirmed booking, a lottery entry
-- taking part or a waiting waitlist place (insert_audit_of_person's).
SELECT hospital_id::TEXT FROM bookings WHERE identity_id = $1 AND status = 'confirmed'
UNION SELECT hospital_id::TEXT FROM lottery_entries WHERE identity_id = $1 AND status = 'entered'
UNION SELECT hospital_id::TEXT FROM waitlist WHERE identity_id = $1 AND status = 'waiting';

-- name: identity_by_hash
-- The person with ID hash $1, and whether the retention job erased their
-- sealed number (erase_identities).
SELECT id::TEXT, name_hash, name_verified_at IS NOT NULL, COALESCE(name_verified_by, ''), number_sealed = ''::BYTEA
  FROM identities WHERE id_hash = $1;

-- name: restore_identity_seals
-- A person the retention job erased is met again: their sealed number ($2)
-- comes back, and their sealed name ($4) when the name given is the one the
-- person's hash holds ($3); a name that differs is a claim, sealed on the
-- patient row only.
UPDATE identities
   SET number_sealed = $2,
       name_sealed = CASE WHEN name_sealed = ''::BYTEA AND name_hash = $3 THEN $4 ELSE name_sealed END
 WHERE id = $1 AND number_sealed = ''::BYTEA;

-- name: insert_identity
-- A new person, under the first name given: verified ($9) when a provider
-- or the desk confirmed it, else a claim.
INSERT INTO identities (id, id_type, id_hash, number_sealed, number_masked, name_hash,
                        name_sealed, name_masked, name_verified_at, name_verified_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9::TEXT = '' THEN NULL ELSE $10::TIMESTAMPTZ END, $9::TEXT);

-- name: verify_identity_name
-- A provider or the desk (with the card) confirmed a name: it becomes the
-- identity's name.
UPDATE identities
   SET name_hash = $2, name_sealed = $3, name_masked = $4, name_verified_at = $5, name_verified_by = $6
 WHERE id = $1;

-- name: self_elsewhere
-- The account, other than $2, that holds identity $1 as its self, and
-- whether it is the person's verified self (bound by the desk).
SELECT p.account_id::TEXT,
       p.self_verified_at IS NOT NULL AND i.name_verified_at IS NOT NULL
       AND COALESCE(p.name_hash, i.name_hash) = i.name_hash
  FROM patients p JOIN identities i ON i.id = p.identity_id
 WHERE p.identity_id = $1 AND p.is_self AND p.account_id <> $2;

-- name: carry_bound_self
-- A clerk's correction of the verified name: the account the desk bound as
-- the person's self keeps the binding under the corrected name (the
-- binding is of the person, read from the card, not of a spelling).
-- RETURNING names the account, for the audit entry.
UPDATE patients SET name_hash = $2, name_sealed = $3, name_masked = $4
 WHERE identity_id = $1 AND is_self AND self_verified_at IS NOT NULL AND removed_at IS NULL
RETURNING account_id::TEXT;

-- name: drop_disproved_selves
-- The desk verified name $2 for identity $1: a self claim of it under
-- another name that the desk never bound is no self (the row stays on its
-- account as 其他 other). RETURNING the row and its account.
UPDATE patients SET is_self = false, relationship = 'other', self_verified_at = NULL
 WHERE identity_id = $1 AND is_self AND self_verified_at IS NULL AND removed_at IS NULL
   AND name_hash IS NOT NULL AND name_hash <> $2
RETURNING id::TEXT, account_id::TEXT;

-- name: account_selves_and_patients
-- How many selves (0 or 1) and patients an account has.
SELECT count(*) FILTER (WHERE is_self), count(*) FROM patients WHERE account_id = $1 AND removed_at IS NULL;

-- name: add_bound_self
-- The desk binds an account that does not list the person: the row is
-- added (or a removed one comes back) as the account's self, bound.
INSERT INTO patients (id, account_id, identity_id, is_self, name_hash, name_sealed, name_masked, relationship, birth_year,
                      self_verified_at)
VALUES ($1, $2, $3, true, $4, $5, $6, 'self', NULLIF($7::INT, 0), $8)
ON CONFLICT (account_id, identity_id) DO UPDATE
   SET removed_at = NULL, is_self = true, relationship = 'self', name_hash = excluded.name_hash,
       name_sealed = excluded.name_sealed, name_masked = excluded.name_masked, self_verified_at = excluded.self_verified_at;

-- name: drop_self
-- The member stays on the account, no longer its holder: 其他 other.
UPDATE patients SET is_self = false, relationship = 'other', self_verified_at = NULL
 WHERE identity_id = $1 AND is_self AND account_id <> $2;

-- name: account_blocked_for_share
-- Whether an account is blocked at $2 (a confirmed flag's block in force),
-- its row read FOR SHARE: a waitlist promotion's check (PromoteWaitlist).
SELECT blocked AND (blocked_until IS NULL OR blocked_until > $2) FROM accounts WHERE id = $1 FOR SHARE;

-- name: patient_claim
-- A patient's claim, and whether it may book: the identity's name is not
-- verified, or is this claim; and whether the person's death was recorded
-- (0083_a).
SELECT COALESCE(p.name_hash, i.name_hash),
       i.name_verified_at IS NULL OR COALESCE(p.name_hash, i.name_hash) = i.name_hash,
       i.deceased_at IS NOT NULL
  FROM patients p JOIN identities i ON i.id = p.identity_id
 WHERE p.id = $1;

-- name: bind_self
-- The desk made this account's patient of the identity its self: the claim
-- takes the verified name, and the row is the person's verified self.
UPDATE patients SET is_self = true, relationship = 'self', name_hash = $3, name_sealed = $4, name_masked = $5,
       self_verified_at = $6
 WHERE account_id = $1 AND identity_id = $2 AND removed_at IS NULL;

-- name: count_patients
SELECT count(*) FROM patients WHERE account_id = $1 AND removed_at IS NULL;

-- name: count_phone_accounts
SELECT count(DISTINCT account_id) FROM patients WHERE phone_hash = $1 AND account_id <> $2 AND removed_at IS NULL;

-- name: set_account_phone
-- A login number's change ends the account's tokens in the same write.
-- A closed account is never given a number back (no row).
UPDATE accounts
   SET phone_hash = $2, phone_sealed = $3, phone_masked = $4,
       token_generation = token_generation + 1, tokens_revoked_at = $5, credentials_changed_at = $5
 WHERE id = $1 AND closed_at IS NULL
RETURNING token_generation;

-- name: restore_account_phone
-- A released account's new login number: only while its number is still
-- the release placeholder ($6), so a second clerk's restore writes nothing.
UPDATE accounts
   SET phone_hash = $2, phone_sealed = $3, phone_masked = $4,
       token_generation = token_generation + 1, tokens_revoked_at = $5, credentials_changed_at = $5
 WHERE id = $1 AND phone_masked = $6 AND closed_at IS NULL
RETURNING token_generation;

-- name: move_login
-- A taken login moved back to its holder at the desk: the new number, every
-- token ended and the password unusable (empty: no password matches it)
-- until the holder redeems the reset code written with it.
UPDATE accounts
   SET phone_hash = $2, phone_sealed = $3, phone_masked = $4, password_hash = '',
       token_generation = token_generation + 1, tokens_revoked_at = $5, credentials_changed_at = $5
 WHERE id = $1 AND role = 'patient' AND closed_at IS NULL
RETURNING token_generation;

-- name: release_account_phone
-- A recycled number's release: the account still logging in with the old
-- number ($2) gets the placeholder and its tokens end in the same write.
UPDATE accounts
   SET phone_hash = $3, phone_sealed = $4, phone_masked = $5,
       token_generation = token_generation + 1, tokens_revoked_at = $6
 WHERE id = $1 AND phone_hash = $2 AND role = 'patient' AND closed_at IS NULL
RETURNING token_generation;

-- name: account_last_used
-- The latest sign that an account is in use: its creation, its last token
-- change (a number or password change, a logout, a reset) and its last
-- event (logins and bookings are events; booking_events_by_account).
SELECT GREATEST(a.created_at, COALESCE(a.tokens_revoked_at, a.created_at),
                COALESCE((SELECT max(e.ts) FROM booking_events e WHERE e.account_id = a.id), a.created_at))
  FROM accounts a WHERE a.id = $1;

-- name: staff_actions_since
SELECT count(*) FROM audit_log WHERE actor_id = $1::UUID AND action = ANY($2::TEXT[]) AND ts >= $3;

-- name: staff_freed_since
-- The latest slot of session $2 staff account $1 freed (a desk
-- cancellation or a reissue: a cancelled or reissued event it made of a
-- booking) since $3 (booking.Store.StaffFreedSince, review25 H2): read by
-- time through booking_events_by_ts, a few minutes of events.
SELECT max(ts) FROM booking_events
 WHERE ts >= $3 AND staff_id = $1::UUID AND session_id = $2::UUID AND booking_id IS NOT NULL
   AND type IN ('cancelled', 'reissued');

-- name: caller_persons_since
-- The persons staff booked, entered or waitlisted on calls from number $1
-- since $2, or cancelled an account's booking for as the patient on the
-- line (the only cancellation whose event carries the number)
-- (booking.Store.CallerPersonsSince): read by time through the index of the
-- events still holding a phone (booking_events_phone_by_ts).
SELECT DISTINCT identity_id::TEXT FROM booking_events
 WHERE phone = $1 AND phone <> '' AND ts >= $2 AND staff_id IS NOT NULL AND identity_id IS NOT NULL
   AND type IN ('booked', 'lottery_entered', 'waitlisted', 'cancelled');

-- name: staff_lookups_since
-- The persons (targets) staff member $1 looked up since $2, other than $3:
-- all of them, those looked up without the card (reason like $4), and the
-- first such lookup's time.
SELECT count(DISTINCT target), count(DISTINCT CASE WHEN reason LIKE $4 THEN target END),
       min(CASE WHEN reason LIKE $4 THEN ts END)
  FROM audit_log
 WHERE actor_id = $1::UUID AND action = 'identity_lookup' AND ts >= $2 AND target <> $3;

-- name: clear_members_phone
-- The members an account listed with its released number lose it.
UPDATE patients SET phone_hash = NULL, phone_sealed = NULL, phone_masked = ''
 WHERE account_id = $1 AND phone_hash = $2;

-- name: insert_account_notification
-- A notification to an account about the account itself: the hospital
-- of the staff member who acted, or none (NULL, 0075_a: the holder's own).
INSERT INTO notifications (id, hospital_id, kind, account_id, body, created_at)
VALUES ($1, NULLIF($2, '')::UUID, $3, $4, $5, $6);

-- name: self_account
-- The account that holds an identity as its self (本人).
 WHERE id = (SELECT account_id FROM patients WHERE identity_id = $1 AND is_self AND removed_at IS NULL LIMIT 1);

-- name: move_members_phone
-- The family members an account gave its own login number ($2 the old
-- hash) follow the account to its new one.
UPDATE patients SET phone_hash = $3, phone_sealed = $4, phone_masked = $5
 WHERE account_id = $1 AND phone_hash = $2 AND removed_at IS NULL;

-- name: set_patient_phone
UPDATE patients SET phone_hash = $3, phone_sealed = $4, phone_masked = $5
 WHERE id = $1 AND account_id = $2 AND removed_at IS NULL;

-- name: restore_patient
-- The identity comes back to an account that had removed it: the same row,
-- with what the new add gives. RETURNING its id (none: no removed row).
UPDATE patients
   SET removed_at = NULL, is_self = $3, self_verified_at = NULL, phone_hash = $4, phone_sealed = $5, phone_masked = $6,
       name_hash = $7, name_sealed = $8, name_masked = $9, relationship = $10, birth_year = NULLIF($11::INT, 0),
       consent_due_on = NULLIF($12::TEXT, '')::DATE
 WHERE account_id = $1 AND identity_id = $2 AND removed_at IS NOT NULL
RETURNING id::TEXT;

-- name: lock_patient_for_removal
-- The removal's first statement (RemovePatient, READ COMMITTED): the row
-- lock waits for any booking or entry insert holding the row FOR SHARE,
-- and every later one waits for this transaction and then finds the row
-- removed. RETURNING is_self (no row: not this account's, or gone). The
-- number's keyed hash goes with it: nothing finds a removed member by it
-- (the sealed number and name go with the retention job, after the grace).
UPDATE patients SET removed_at = $3, phone_hash = NULL
 WHERE id = $1 AND account_id = $2 AND removed_at IS NULL
RETURNING is_self;

-- name: listings_of_person
-- The accounts but $2 that list the person $1 (any of their documents:
-- identities.person_id, 0057) as a family member, not as their self, now.
SELECT p.id::TEXT, p.account_id::TEXT, a.phone_masked, p.relationship, p.created_at,
       COALESCE(NULLIF(p.name_masked, ''), i.name_masked)
  FROM patients p JOIN identities i ON i.id = p.identity_id JOIN accounts a ON a.id = p.account_id
 WHERE COALESCE(i.person_id, i.id) = $1 AND ($2::UUID IS NULL OR p.account_id <> $2)
   AND p.removed_at IS NULL AND NOT p.is_self AND a.closed_at IS NULL
 ORDER BY p.created_at, p.id;

-- name: patient_pending
-- What a member still has pending, read after lock_patient_for_removal in
-- a fresh snapshot: confirmed bookings, live lottery entries, waiting
-- waitlist places.
SELECT (SELECT count(*) FROM bookings WHERE patient_id = $1 AND status = 'confirmed'),
       (SELECT count(*) FROM lottery_entries WHERE patient_id = $1 AND status IN ('entered', 'waitlisted')),
       (SELECT count(*) FROM waitlist WHERE patient_id = $1 AND status = 'waiting');

-- name: set_relationship
UPDATE patients SET relationship = $3
 WHERE id = $1 AND account_id = $2 AND removed_at IS NULL AND NOT is_self;

-- name: insert_patient
INSERT INTO patients (id, account_id, identity_id, is_self, phone_hash, phone_sealed, phone_masked,
                      name_hash, name_sealed, name_masked, relationship, birth_year, consent_due_on)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULLIF($12::INT, 0), NULLIF($13::TEXT, '')::DATE);

-- name: patient_rows
-- A patient with its claim (rows from before claims were kept read the
-- identity's name), and whether the claim is the identity's verified name.
-- The identity id and hash are the person's (0050: a document the desk
-- linked to a person known under another reads that person: one person key
-- for every per-person rule), the type and masked number the document's.
-- namesake: another member of the account under the same name with another
-- type of document (one person at a draw: NamesakeEntered).
SELECT p.id::TEXT, p.account_id::TEXT, pr.id::TEXT, pr.id_hash, i.id_type, i.number_masked,
       COALESCE(NULLIF(p.name_masked, ''), i.name_masked), COALESCE(p.name_hash, i.name_hash),
       i.name_verified_at IS NOT NULL AND COALESCE(p.name_hash, i.name_hash) = i.name_hash,
       p.is_self AND p.self_verified_at IS NOT NULL AND i.name_verified_at IS NOT NULL
       AND COALESCE(p.name_hash, i.name_hash) = i.name_hash,
       p.phone_masked, p.is_self, p.relationship, COALESCE(p.birth_year, 0), p.created_at,
       p.removed_at IS NOT NULL,
       EXISTS (SELECT 1 FROM patients o JOIN identities oi ON oi.id = o.identity_id
                WHERE o.account_id = p.account_id AND o.id <> p.id AND o.removed_at IS NULL
                  AND oi.id_type <> i.id_type
                  AND COALESCE(o.name_hash, oi.name_hash) = COALESCE(p.name_hash, i.name_hash)),
       COALESCE(p.consent_due_on::TEXT, '')
  FROM patients p JOIN identities i ON i.id = p.identity_id
  JOIN identities pr ON pr.id = COALESCE(i.person_id, i.id)

-- name: patient
 WHERE p.id = $1;

-- name: patients_by_id
 WHERE p.id = ANY ($1::UUID[]);

-- name: patients_of_account
 WHERE p.account_id = $1 AND p.removed_at IS NULL
 ORDER BY p.created_at, p.id;

-- name: insert_booking
INSERT INTO bookings (id, session_id, slot_no, hospital_id, department_id, doctor_id, visit_date,
                      patient_id, identity_id, account_id, channel, status, idempotency_key,
                      created_at, booked_by, name_hash, allotted)
VALUES ($1, $2, $3, $4, $5, $6, $7::DATE, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17);

-- name: insert_bookings_with_events
-- A batch of bookings ($1-$17), their events ($18-$35) and, for bookings
-- staff made, their audit entries ($36-$44: the booking each belongs to,
-- then the entry), from parallel arrays in one statement: one implicit
-- transaction, one round trip (InsertBookings). A row is refused alone,
-- never the batch: one whose name ($16) is another than its identity's
-- verified name is not selected, nor one into a stopped clinic (停诊), nor
-- one for a family member removed from its account (its row is read FOR
-- SHARE: a removal holding the row makes the insert wait and then see it
-- removed, and a removal that comes later waits for this insert and then
-- finds its booking pending, RemovePatient), nor one whose day is not its
-- clinic's (moved, 改期, after the instance that admitted it read its
-- catalog: SQL's day decides, review22 H1; the move commits before the
-- session opens again, so every later insert sees the new day), nor one of
-- a blocked account (a confirmed flag, seen by the instance that admitted
-- it only at its next reload; the account's row is read FOR SHARE, so a
-- confirmation waits for this insert and its sweep then finds the
-- booking; review22), and one that meets a unique index (its id
-- again, an active booking of its slot, or of its identity on that day in
-- that department) goes in as nothing. Events and audit entries go in only
-- for the bookings that did (a repeat of one id in a batch: DISTINCT ON).
-- RETURNING names those bookings.
WITH b AS (
    INSERT INTO bookings (id, session_id, slot_no, hospital_id, department_id, doctor_id, visit_date,
                          patient_id, identity_id, account_id, channel, status, idempotency_key,
                          created_at, booked_by, name_hash, allotted)
    SELECT t.id, t.session_id, t.slot_no, t.hospital_id, t.department_id, t.doctor_id, t.visit_date::DATE,
           t.patient_id, t.identity_id, t.account_id, t.channel, t.status, t.idempotency_key,
           t.created_at, t.booked_by, t.name_hash, t.allotted
      FROM unnest($1::UUID[], $2::UUID[], $3::INT[], $4::UUID[], $5::UUID[], $6::UUID[], $7::TEXT[],
                  $8::UUID[], $9::UUID[], $10::UUID[], $11::TEXT[], $12::TEXT[], $13::TEXT[],
                  $14::TIMESTAMPTZ[], $15::UUID[], $16::BYTEA[], $17::BOOL[])
           AS t (id, session_id, slot_no, hospital_id, department_id, doctor_id, visit_date, patient_id,
                 identity_id, account_id, channel, status, idempotency_key, created_at, booked_by, name_hash,
                 allotted)
     WHERE NOT EXISTS (SELECT 1 FROM identities i
                        WHERE i.id = t.identity_id
                          AND (i.deceased_at IS NOT NULL
                               OR i.name_verified_at IS NOT NULL AND t.name_hash IS NOT NULL AND i.name_hash <> t.name_hash))
       AND EXISTS (SELECT 1 FROM clinic_sessions cs
                    WHERE cs.id = t.session_id AND cs.stopped_at IS NULL AND cs.visit_date = t.visit_date::DATE)
       AND (t.patient_id IS NULL OR EXISTS (SELECT 1 FROM patients pt
                                             WHERE pt.id = t.patient_id AND pt.removed_at IS NULL FOR SHARE))
       AND (t.account_id IS NULL OR EXISTS (SELECT 1 FROM accounts ac
                                             WHERE ac.id = t.account_id
                                               AND NOT (ac.blocked AND (ac.blocked_until IS NULL OR ac.blocked_until > t.created_at))
                                               FOR SHARE))
    ON CONFLICT DO NOTHING
    RETURNING id
), ev AS (
    INSERT INTO booking_events (id, ts, type, account_id, patient_id, booking_id, session_id,
                                hospital_id, department_id, doctor_id, channel, ip, device_id,
                                phone, release_at, reason, staff_id, identity_id, card_source)
    SELECT DISTINCT ON (v.booking_id) v.id, v.ts, v.type, v.account_id, v.patient_id, v.booking_id,
           v.session_id, v.hospital_id, v.department_id, v.doctor_id, v.channel, v.ip, v.device_id,
           v.phone, v.release_at, v.reason, v.staff_id, v.identity_id, NULLIF(v.card_source, '')
      FROM unnest($18::UUID[], $19::TIMESTAMPTZ[], $20::TEXT[], $21::UUID[], $22::UUID[], $23::UUID[],
                  $24::UUID[], $25::UUID[], $26::UUID[], $27::UUID[], $28::TEXT[], $29::TEXT[],
                  $30::TEXT[], $31::TEXT[], $32::TIMESTAMPTZ[], $33::TEXT[], $34::UUID[], $35::UUID[], $45::TEXT[])
           AS v (id, ts, type, account_id, patient_id, booking_id, session_id, hospital_id, department_id,
                 doctor_id, channel, ip, device_id, phone, release_at, reason, staff_id, identity_id, card_source)
     WHERE v.booking_id IN (SELECT id FROM b)
     ORDER BY v.booking_id
), audit AS (
    INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason, hospital_id)
    SELECT DISTINCT ON (a.booking_id) a.id, a.ts, a.actor_id, a.actor_role, a.action, a.target, a.reason,
           a.hospital_id
      FROM unnest($36::UUID[], $37::UUID[], $38::TIMESTAMPTZ[], $39::UUID[], $40::TEXT[], $41::TEXT[],
                  $42::TEXT[], $43::TEXT[], $44::UUID[])
           AS a (booking_id, id, ts, actor_id, actor_role, action, target, reason, hospital_id)
     WHERE a.booking_id IN (SELECT id FROM b)
     ORDER BY a.booking_id
)
SELECT id::TEXT FROM b;

-- name: bookings_refused
-- Why each booking of a batch that did not go in was refused, read after
-- the batch (InsertBookings): its name is not its identity's verified one;
-- its id is taken (a repeat of a booking); its slot has an active booking;
-- its identity has one that day in that department; its clinic was stopped,
-- its member removed, or its day is no longer its clinic's; its account is
-- blocked; its person's death was recorded (0083_a). A row with none of these
-- met a booking cancelled since, and is written again.
SELECT t.id::TEXT,
       EXISTS (SELECT 1 FROM identities i
                WHERE i.id = t.identity_id AND i.name_verified_at IS NOT NULL
                  AND t.name_hash IS NOT NULL AND i.name_hash <> t.name_hash),
       EXISTS (SELECT 1 FROM bookings b WHERE b.id = t.id),
       EXISTS (SELECT 1 FROM bookings b
                WHERE b.session_id = t.session_id AND b.slot_no = t.slot_no
                  AND b.status IN ('confirmed', 'checked_in')),
       EXISTS (SELECT 1 FROM bookings b
                WHERE b.identity_id = t.identity_id AND b.visit_date = t.visit_date::DATE
                  AND b.department_id = t.department_id AND b.status IN ('confirmed', 'checked_in')),
       EXISTS (SELECT 1 FROM clinic_sessions cs WHERE cs.id = t.session_id AND cs.stopped_at IS NOT NULL),
       EXISTS (SELECT 1 FROM patients pt WHERE pt.id = t.patient_id AND pt.removed_at IS NOT NULL),
       EXISTS (SELECT 1 FROM clinic_sessions cs WHERE cs.id = t.session_id AND cs.visit_date <> t.visit_date::DATE),
       EXISTS (SELECT 1 FROM accounts ac
                WHERE ac.id = t.account_id AND ac.blocked AND (ac.blocked_until IS NULL OR ac.blocked_until > t.created_at)),
       EXISTS (SELECT 1 FROM identities i WHERE i.id = t.identity_id AND i.deceased_at IS NOT NULL)
  FROM unnest($1::UUID[], $2::UUID[], $3::INT[], $4::UUID[], $5::TEXT[], $6::UUID[], $7::BYTEA[], $8::UUID[],
              $9::UUID[], $10::TIMESTAMPTZ[])
       AS t (id, session_id, slot_no, identity_id, visit_date, department_id, name_hash, patient_id, account_id, created_at);

-- name: booking_rows
-- How a booking reads: with its slot's times and its identity's hash, and
-- whether the service allotted it (stored when it was made, 0047). The
-- queries below complete it with a WHERE clause (bookingQuery in store.go).
SELECT b.id::TEXT, b.session_id::TEXT, b.hospital_id::TEXT, b.department_id::TEXT,
       b.doctor_id::TEXT, b.visit_date::TEXT, b.slot_no, sl.starts_at, sl.ends_at,
       COALESCE(b.patient_id::TEXT, ''), b.identity_id::TEXT, i.id_hash,
       COALESCE(b.account_id::TEXT, ''), b.channel, b.status, b.idempotency_key, b.created_at,
       b.cancelled_at, COALESCE(b.booked_by::TEXT, ''), b.checked_in_at, b.late_cancel, b.name_hash,
       COALESCE(b.booked_name_hash, b.name_hash), b.allotted
  FROM bookings b
  JOIN slots sl ON sl.session_id = b.session_id AND sl.slot_no = b.slot_no
  JOIN identities i ON i.id = b.identity_id;

-- name: booking
WHERE b.id = $1;

-- name: bookings_of_account
-- The bookings an account owns: those it made, and those staff made for the
-- person it holds as its verified self (self, under the verified name).
-- Another account holding the same person sees neither.
 WHERE (b.account_id = $1
    OR b.account_id IS NULL AND b.identity_id IN (
        SELECT p.identity_id FROM patients p JOIN identities si ON si.id = p.identity_id
         WHERE p.account_id = $1 AND p.is_self AND p.self_verified_at IS NOT NULL AND si.name_verified_at IS NOT NULL
           AND COALESCE(p.name_hash, si.name_hash) = si.name_hash))
   -- A page (booking.Page): from the booking $2 (NULL: from the newest)
   -- in the order newest first by (created_at, id), $3 rows. The cursor is
   -- the first row when it is one of the account's: Store.Bookings checks
   -- it with the page's own read and drops it.
   AND ($2::UUID IS NULL
        OR b.created_at < (SELECT c.created_at FROM bookings c WHERE c.id = $2::UUID)
        OR b.created_at = (SELECT c.created_at FROM bookings c WHERE c.id = $2::UUID) AND b.id <= $2::UUID)
 ORDER BY b.created_at DESC, b.id DESC
 LIMIT $3;

-- name: roster
-- A hospital's day at the desk (Roster): the bookings still on the list,
-- with their people masked, by session and slot.
 WHERE b.hospital_id = $1 AND b.visit_date = $2::DATE AND b.status IN ('confirmed', 'checked_in', 'no_show')
 ORDER BY b.session_id, b.slot_no;

-- name: roster_people
-- With the family member's relationship to the account that booked and the
-- birth year, when an account booked (issue 13: 陈一 and 陈二 are both 陈*).
SELECT b.id::TEXT, i.id_type, i.number_masked, i.name_masked,
       COALESCE(CASE WHEN p.is_self THEN 'self' ELSE p.relationship END, ''), COALESCE(p.birth_year, 0)
  FROM bookings b JOIN identities i ON i.id = b.identity_id
  LEFT JOIN patients p ON p.id = b.patient_id
 WHERE b.hospital_id = $1 AND b.visit_date = $2::DATE AND b.status IN ('confirmed', 'checked_in', 'no_show');

-- name: bookings_by_others
-- An identity's bookings that patient accounts other than $2 made, visits
-- from $3 on (MadeByOthers): what the person's verified self sees of them.
 WHERE b.identity_id = $1 AND b.account_id IS NOT NULL AND b.account_id <> $2
   AND b.visit_date >= $3::DATE
 ORDER BY b.visit_date, sl.starts_at
 LIMIT 200;

-- name: bookings_by_account
-- An identity's bookings that account $2 made, visits from $3 on
-- (MadeByAccount): what explains a refusal to it.
 WHERE b.identity_id = $1 AND b.account_id = $2
   AND b.visit_date >= $3::DATE
 ORDER BY b.visit_date, sl.starts_at
 LIMIT 200;

-- name: masked_phones_of_accounts
SELECT id::TEXT, phone_masked FROM accounts WHERE id = ANY($1::UUID[]);

-- name: bookings_of_identity
 WHERE b.identity_id = $1 AND b.visit_date >= $2::DATE
 ORDER BY b.visit_date, sl.starts_at;

-- name: bookings_of_caller
-- An identity's bookings a call from a number has a say in (LookupCaller):
-- made by an account logging in with it ($3 the keyed hash), for a family
-- member given it and still listed (the account that removed a member no
-- longer speaks for them), or by staff on a call from it: the booking's own
-- event that made it carries the number ($4 the events' phone reference)
-- and a staff member — booked, or waitlisted / lottery_entered for a place
-- or an entry that became the booking (the booking keeps its id). A
-- refused attempt from the number, or another booking for the person from
-- it, gives it no say: the say is per booking. Not those another account
-- made for the same person. A slot held with a substitute doctor (替诊) is
-- the stopped booking's, held on: its say is its original's.
 WHERE b.identity_id = $1 AND b.visit_date >= $2::DATE
   AND (b.account_id IN (SELECT id FROM accounts WHERE phone_hash = $3)
        OR b.patient_id IN (SELECT id FROM patients WHERE phone_hash = $3 AND removed_at IS NULL)
        OR b.account_id IS NULL AND EXISTS (
             SELECT 1 FROM booking_events e
              WHERE e.booking_id IN (b.id, COALESCE((SELECT o.original_booking_id FROM substitute_offers o WHERE o.booking_id = b.id), b.id))
                AND e.phone = $4 AND e.staff_id IS NOT NULL
                AND e.type IN ('booked', 'waitlisted', 'lottery_entered')))
 ORDER BY b.visit_date, sl.starts_at;

-- name: active_bookings
 WHERE b.hospital_id = $1 AND b.visit_date >= $2::DATE AND b.status IN ('confirmed', 'checked_in');

-- name: booked_counts
-- What a stop (停诊) of each session given ($1) would end: its active
-- bookings per pool (the slot's channel, as the free slots beside them are
-- counted), its waiting places and its live lottery entries. The
-- administrators' schedule listing reads a page of sessions at a time, a
-- session's page and its stop one (bookings_by_session,
-- waitlist_by_session, lottery_entries_by_pool).
SELECT b.session_id::TEXT, 'booked', sl.channel, count(*)::INT
  FROM bookings b JOIN slots sl ON sl.session_id = b.session_id AND sl.slot_no = b.slot_no
 WHERE b.session_id = ANY($1::UUID[]) AND b.status IN ('confirmed', 'checked_in')
 GROUP BY b.session_id, sl.channel
UNION ALL
SELECT session_id::TEXT, 'waiting', '', count(*)::INT
  FROM waitlist
 WHERE session_id = ANY($1::UUID[]) AND status = 'waiting'
 GROUP BY session_id
UNION ALL
SELECT session_id::TEXT, 'entries', '', count(*)::INT
  FROM lottery_entries
 WHERE session_id = ANY($1::UUID[]) AND status IN ('entered', 'held_out')
 GROUP BY session_id;

-- name: returned_slots
-- The slots a booking gave back (cancelled, or a no-show's) that no active
-- booking holds: after Redis lost its state they go through the return path
-- again (the waitlist first), not straight to their pool.
SELECT DISTINCT b.session_id::TEXT, b.slot_no
  FROM bookings b
 WHERE b.hospital_id = $1 AND b.visit_date >= $2::DATE AND b.status IN ('cancelled', 'no_show')
   AND NOT EXISTS (SELECT 1 FROM bookings a
                    WHERE a.session_id = b.session_id AND a.slot_no = b.slot_no
                      AND a.status IN ('confirmed', 'checked_in'))
 ORDER BY 1, 2;

-- name: cancel_booking
UPDATE bookings SET status = 'cancelled', cancelled_at = $2, late_cancel = $3
 WHERE id = $1 AND status = 'confirmed';

-- name: booking_statuses
SELECT id::TEXT, status FROM bookings WHERE id = ANY ($1::UUID[]);

-- name: identity_full
SELECT id::TEXT, id_type, id_hash, number_masked, name_hash, name_masked, name_verified_at IS NOT NULL,
       CASE WHEN name_verified_at IS NULL THEN '' ELSE COALESCE(name_verified_by, '') END,
       COALESCE(person_id::TEXT, '')
  FROM identities WHERE id = $1;

-- name: identity_full_by_hash
SELECT id::TEXT, id_type, id_hash, number_masked, name_hash, name_masked, name_verified_at IS NOT NULL,
       CASE WHEN name_verified_at IS NULL THEN '' ELSE COALESCE(name_verified_by, '') END,
       COALESCE(person_id::TEXT, '')
  FROM identities WHERE id_hash = $1;

-- name: account_has_identity
SELECT count(*) FROM patients WHERE account_id = $1 AND identity_id = $2 AND removed_at IS NULL;

-- name: check_in
-- The booking carries the card's name ($3) from its check-in on: the
-- person who came, whatever name it was made under (a check-in override),
-- which booked_name_hash keeps for a replay of the request (0042).
UPDATE bookings SET status = 'checked_in', checked_in_at = $2, name_hash = $3,
       booked_name_hash = COALESCE(booked_name_hash, name_hash)
 WHERE id = $1 AND status = 'confirmed';

-- name: mark_no_shows
-- Bookings of sessions that ended without a check-in. RETURNING feeds the
-- events and the bar rule in the same transaction. A session ends with its
-- last slot: extra slots (加号) lie after ends_at (booking.Session.Closes).
-- A slot held with a substitute doctor whose offer nobody answered is left
-- to the lapse job, which cancels it without penalty (LapseOffers): not
-- coming to a slot one never accepted is no no-show.
UPDATE bookings SET status = 'no_show'
 WHERE status = 'confirmed'
   AND session_id IN (SELECT s.id FROM clinic_sessions s
                       WHERE s.ends_at > $2
                         AND GREATEST(s.ends_at, (SELECT max(sl.ends_at) FROM slots sl WHERE sl.session_id = s.id)) <= $1)
   AND NOT EXISTS (SELECT 1 FROM substitute_offers o WHERE o.booking_id = bookings.id AND o.status = 'offered')
RETURNING id::TEXT, identity_id::TEXT, session_id::TEXT, hospital_id::TEXT, department_id::TEXT,
          doctor_id::TEXT, COALESCE(account_id::TEXT, ''), COALESCE(patient_id::TEXT, ''), channel;

-- name: mark_no_show
UPDATE bookings SET status = 'no_show' WHERE id = $1 AND status = 'confirmed';

-- name: count_no_shows
-- No-shows and late cancellations of an identity in the window.
SELECT count(*) FROM bookings
 WHERE identity_id = $1 AND visit_date >= $2::DATE
   AND (status = 'no_show' OR (status = 'cancelled' AND late_cancel));

-- name: insert_bar
INSERT INTO bars (trigger_booking_id, identity_id, no_shows, until, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (trigger_booking_id) DO NOTHING;

-- name: active_bars
-- Bars earned by no-shows and blocks from confirmed scalper flags.
SELECT i.id_hash, max(b.until)
  FROM (SELECT identity_id, until FROM bars UNION ALL SELECT identity_id, until FROM identity_blocks) b
  JOIN identities i ON i.id = b.identity_id
 WHERE b.until > $1 GROUP BY i.id_hash;

-- name: no_show_records
-- A patient's standing: per identity, no-shows and late cancellations with
-- a visit from $2 on (as count_no_shows), and the end of the bar and of the
-- block in force at $3.
SELECT i.id::TEXT,
       (SELECT count(*) FROM bookings b
         WHERE b.identity_id = i.id AND b.visit_date >= $2::DATE
           AND (b.status = 'no_show' OR (b.status = 'cancelled' AND b.late_cancel))),
       (SELECT max(until) FROM bars r WHERE r.identity_id = i.id AND r.until > $3),
       (SELECT max(until) FROM identity_blocks k WHERE k.identity_id = i.id AND k.until > $3)
  FROM identities i
 WHERE i.id = ANY($1::UUID[]);

-- name: insert_waitlist
-- A caller an operator waitlisted by phone has no patient or account ($4,
-- $6 NULL); booked_by and the name they gave stand in. A person whose
-- death the desk recorded (0083_a) waits for nothing: the row is not
-- written, and the answer says so (false) in the same statement, so an
-- instance that has not read the mark refuses too (session 25).
WITH w AS (
    INSERT INTO waitlist (id, session_id, hospital_id, patient_id, identity_id, account_id, status,
                          created_at, updated_at, booked_by, name_hash, round_ends_at, wait_key)
    SELECT $1, $2, $3, $4, $5, $6, 'waiting', $7, $7, $8, $9, $10, $11
     WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.id = $5 AND i.deceased_at IS NOT NULL)
    RETURNING id
)
SELECT count(*) > 0 FROM w;

-- name: waitlist_rows
SELECT w.id::TEXT, w.session_id::TEXT, w.hospital_id::TEXT, COALESCE(w.patient_id::TEXT, ''), w.identity_id::TEXT,
       i.id_hash, COALESCE(w.account_id::TEXT, ''), w.status, w.created_at,
       COALESCE(w.booked_by::TEXT, ''), w.name_hash, w.round_ends_at, w.wait_key
  FROM waitlist w JOIN identities i ON i.id = w.identity_id

-- name: waitlist_entry
 WHERE w.id = $1;

-- name: waitlist_of_account
 WHERE w.account_id = $1
   -- A page (booking.Page): after the entry $2 (NULL: from the newest),
   -- newest first by (created_at, id), $3 of them.
   AND ($2::UUID IS NULL
        OR w.created_at < (SELECT c.created_at FROM waitlist c WHERE c.id = $2::UUID)
        OR w.created_at = (SELECT c.created_at FROM waitlist c WHERE c.id = $2::UUID) AND w.id < $2::UUID)
 ORDER BY w.created_at DESC, w.id DESC LIMIT $3;

-- name: waiting_places_made_by
-- The waiting places account $1 made, a page after the place $2 (NULL:
-- from the first) by id, $3 of them: what a closing cancels, all of them
-- page by page.
 WHERE w.account_id = $1 AND w.status = 'waiting' AND ($2::UUID IS NULL OR w.id > $2::UUID)
 ORDER BY w.id LIMIT $3;

-- name: waiting_of_person
-- An identity's waiting places in a session ($1, $2), oldest first
-- (WaitingOfPerson).
 WHERE w.session_id = $1 AND w.identity_id = $2 AND w.status = 'waiting'
 ORDER BY w.created_at, w.id;

-- name: end_places
-- The waiting places $1 end skipped at $2, each with a notification: the
-- text of its id in $3 (EndPlaces), to its account, or for a phone
-- caller's place (no account) on the call-back list.
WITH c AS (
    UPDATE waitlist SET status = 'skipped', updated_at = $2
     WHERE id = ANY($1::UUID[]) AND status = 'waiting'
    RETURNING id, hospital_id, session_id, account_id, identity_id
)
INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, waitlist_id, body, created_at, call_back)
SELECT gen_random_uuid(), c.hospital_id, c.session_id, 'cancelled', c.account_id, c.identity_id, c.id, t.body, $2::TIMESTAMPTZ,
       c.account_id IS NULL
  FROM c JOIN unnest($1::UUID[], $3::TEXT[]) AS t (id, body) ON t.id = c.id;

-- name: waitlist_by_others
-- An identity's waitlist places that patient accounts other than $2 made,
-- waiting or made since $3 (MadeByOthers).
 WHERE w.identity_id = $1 AND w.account_id IS NOT NULL AND w.account_id <> $2
   AND (w.status = 'waiting' OR w.created_at > $3)
 ORDER BY w.created_at DESC LIMIT 200;

-- name: waitlist_by_account
-- An identity's waitlist places that account $2 made, waiting or made
-- since $3 (MadeByAccount).
 WHERE w.identity_id = $1 AND w.account_id = $2
   AND (w.status = 'waiting' OR w.created_at > $3)
 ORDER BY w.created_at DESC LIMIT 200;

-- name: waitlist_waiting
 WHERE w.hospital_id = $1 AND w.status = 'waiting'
 ORDER BY COALESCE(w.round_ends_at, w.created_at), w.wait_key, w.created_at, w.id;

-- name: waitlist_claim
-- The name a phone waitlist entry was made under, and whether it may book:
-- it is not another than the identity's verified name; and whether the
-- person's death was recorded (0083_a).
SELECT w.name_hash, i.name_verified_at IS NULL OR i.name_hash = w.name_hash, i.deceased_at IS NOT NULL
  FROM waitlist w JOIN identities i ON i.id = w.identity_id WHERE w.id = $1;

-- name: identities_by_phone
-- The people a phone number is known for (CallersByPhone): staff bookings,
-- entries and waitlist places for a caller ringing from it ($2 is the
-- events' phone reference), family members given it and still listed ($1
-- the keyed hash; a removed member's number finds them no more), and the
-- self of the account it logs in.
SELECT id::TEXT, id_type, id_hash, number_masked, name_hash, name_masked, name_verified_at IS NOT NULL,
       CASE WHEN name_verified_at IS NULL THEN '' ELSE COALESCE(name_verified_by, '') END,
       COALESCE(person_id::TEXT, '')
  FROM identities
 WHERE id IN (SELECT identity_id FROM booking_events
               WHERE phone = $2 AND staff_id IS NOT NULL AND identity_id IS NOT NULL
              UNION SELECT identity_id FROM patients WHERE phone_hash = $1 AND removed_at IS NULL
              UNION SELECT p.identity_id FROM patients p JOIN accounts a ON a.id = p.account_id
               WHERE a.phone_hash = $1 AND p.is_self)
 ORDER BY created_at, id
 LIMIT $3;

-- name: patients_with_phone
-- The family list entries still listed whose account gave them number $1
-- (the keyed hash) as their own contact number (PatientsWithPhone): a
-- booking made for one of them may be cancelled by that patient ringing
-- from it (CancelForCaller).
SELECT id::TEXT FROM patients WHERE phone_hash = $1 AND removed_at IS NULL;

-- name: phone_kin
-- Who the people a phone number is known for are to an account of it
-- (CallersByPhone): the self of the account whose login it is first, then
-- the family members given it and still listed ($1 the keyed hash; both
-- by index).
SELECT p.identity_id::TEXT, 'self', COALESCE(p.birth_year, 0), 0 AS pref
  FROM accounts a JOIN patients p ON p.account_id = a.id AND p.is_self
 WHERE a.phone_hash = $1
UNION ALL
SELECT identity_id::TEXT, CASE WHEN is_self THEN 'self' ELSE relationship END, COALESCE(birth_year, 0), 1
  FROM patients WHERE phone_hash = $1 AND removed_at IS NULL
 ORDER BY 4;

-- name: waitlist_position
-- An entry's place in its session's line: by round (an entry without one
-- by its time of joining), then key; and, for an entry whose round is still
-- open, how many wait in earlier rounds and how many are in its round. $2
-- its round's end (else its created_at), $3 key, $4 created_at, $5 id.
-- (sum is DECIMAL on CockroachDB: cast back.)
SELECT COALESCE(sum(CASE WHEN (COALESCE(round_ends_at, created_at), wait_key, created_at, id)
                              <= ($2::TIMESTAMPTZ, $3::INT8, $4::TIMESTAMPTZ, $5::UUID) THEN 1 ELSE 0 END), 0)::INT8,
       COALESCE(sum(CASE WHEN COALESCE(round_ends_at, created_at) < $2::TIMESTAMPTZ THEN 1 ELSE 0 END), 0)::INT8,
       COALESCE(sum(CASE WHEN round_ends_at = $2::TIMESTAMPTZ THEN 1 ELSE 0 END), 0)::INT8
  FROM waitlist
 WHERE session_id = $1 AND status = 'waiting';

-- name: waitlist_statuses
SELECT id::TEXT, status FROM waitlist WHERE id = ANY ($1::UUID[]);

-- name: close_waitlist
UPDATE waitlist SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'waiting';

-- name: extra_slot_count
-- A session's extra slots (加号): AddSlots puts them at or after its end,
-- where no slot of its layout starts.
SELECT count(*) FROM slots
 WHERE session_id = $1 AND starts_at >= (SELECT ends_at FROM clinic_sessions WHERE id = $1);

-- name: max_slot
SELECT COALESCE(max(slot_no), 0) FROM slots WHERE session_id = $1;

-- name: bump_session_version
-- A change of the session's layout (extra slots, a pool move): an edit
-- made from the version before it is stale.
UPDATE clinic_sessions SET version = version + 1 WHERE id = $1;

-- name: add_channel_quota
INSERT INTO session_channels (session_id, channel, quota, release_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (session_id, channel) DO UPDATE SET quota = session_channels.quota + excluded.quota;

-- name: move_slot
UPDATE slots SET channel = $3 WHERE session_id = $1 AND slot_no = $2 AND channel = $4;

-- name: take_channel_quota
UPDATE session_channels SET quota = quota - $3 WHERE session_id = $1 AND channel = $2 AND quota >= $3;

-- name: event_rows
-- How an event reads (scanEvent); the queries below, and events_to_notify
-- (cases.sql), complete it with a WHERE clause (eventQuery in flags.go).
SELECT id::TEXT, ts, type, COALESCE(account_id::TEXT, ''), COALESCE(patient_id::TEXT, ''),
       COALESCE(identity_id::TEXT, ''), COALESCE(booking_id::TEXT, ''), COALESCE(session_id::TEXT, ''),
       COALESCE(hospital_id::TEXT, ''), COALESCE(department_id::TEXT, ''), COALESCE(doctor_id::TEXT, ''),
       channel, ip, device_id, phone, release_at, reason, COALESCE(staff_id::TEXT, ''),
       COALESCE(presented_identity_id::TEXT, ''), presented_on_account, COALESCE(by_account_id::TEXT, ''),
       COALESCE(made_by_other_account, FALSE), COALESCE(card_source, '')
  FROM booking_events;

-- name: events_since
 WHERE ts >= $1
 ORDER BY ts, id;

-- name: events_of_group
 WHERE ts >= $1 AND (account_id = ANY ($2::UUID[]) OR identity_id = ANY ($3::UUID[]))
 ORDER BY ts, id
 LIMIT 2000;

-- name: flag_rows
SELECT id, score, status, reasons, account_ids, patient_ids, created_at, updated_at, decided_at,
       COALESCE(decided_by::TEXT, ''), note, decided_score, explanation, COALESCE(opened_at, created_at),
       COALESCE(overturned_by::TEXT, ''), overturned_at, dismissal
  FROM flags

-- name: flags_by_status
 WHERE status = $1
   -- A page (booking.Page): after the flag $2 ('': from the highest score)
   -- in the order highest score first, then by id, $3 of them.
   AND ($2::TEXT = ''
        OR score < (SELECT c.score FROM flags c WHERE c.id = $2::TEXT)
        OR score = (SELECT c.score FROM flags c WHERE c.id = $2::TEXT) AND id > $2::TEXT)
 ORDER BY score DESC, id LIMIT $3;

-- name: flag_by_id
 WHERE id = $1;

-- name: flags_of_accounts
-- The flags in a status $1 scoring at least $2 that name one of the
-- accounts $3 (the draw's screening, a case's maker): all of them, not a
-- page of the status's (flags_by_status, in the range of its index).
 WHERE status = $1 AND score >= $2 AND account_ids ?| $3::TEXT[]
 ORDER BY score DESC, id;

-- name: insert_flag
INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at, explanation, opened_at)
VALUES ($1, $2, 'open', $3, $4, $5, $6, $6, $7, $6)
ON CONFLICT (id) DO NOTHING;

-- name: update_flag_evidence
-- A dismissed flag reopened opens anew: its decision deadline runs from now,
-- and nobody has asked to dismiss it yet (review25 M1).
UPDATE flags SET score = $2, reasons = $3, account_ids = $4, patient_ids = $5, updated_at = $6, status = $7, explanation = $8,
       opened_at = CASE WHEN status <> 'open' AND $7::TEXT = 'open' THEN $6::TIMESTAMPTZ ELSE opened_at END,
       dismissal = CASE WHEN status <> 'open' AND $7::TEXT = 'open' THEN NULL ELSE dismissal END
 WHERE id = $1;

-- name: decide_flag
-- $6: a dismissal's record (its reason code and who asked first), NULL to
-- keep what is there (a confirmation after a pending dismissal keeps it).
UPDATE flags SET status = $2, decided_at = $3, decided_by = $4, note = $5, decided_score = score, updated_at = $3,
       dismissal = COALESCE($6::JSONB, dismissal)
 WHERE id = $1 AND status = 'open';

-- name: request_dismissal
-- review25 M1: the first administrator's dismissal of a flag that wants a
-- second: it stays open; only one request stands at a time.
UPDATE flags SET dismissal = $2::JSONB, updated_at = $3
 WHERE id = $1 AND status = 'open' AND dismissal IS NULL;

-- name: block_account
UPDATE accounts SET blocked = true, blocked_until = $2 WHERE id = $1;

-- name: block_identity
-- A person key that names no identity (a patient id, a key from an offline
-- trace) blocks nothing, rather than failing the decision on the foreign key.
INSERT INTO identity_blocks (flag_id, identity_id, until)
SELECT $1::TEXT, id, $3::TIMESTAMPTZ FROM identities WHERE id = $2::UUID
ON CONFLICT (flag_id, identity_id) DO NOTHING;

-- name: future_bookings_of_group
-- Only what the group's accounts made themselves: a booking another account,
-- or a clerk or operator (booked_by), made for one of the group's persons is
-- that person's, not the group's (review21 H1).
 WHERE b.status = 'confirmed'
   AND b.session_id IN (SELECT id FROM clinic_sessions WHERE starts_at > $1)
   AND b.account_id = ANY ($2::UUID[]) AND b.booked_by IS NULL;

-- name: persons_elsewhere
-- Of the identities $2, those an account outside $1 lists (not removed):
-- on how many such accounts, and whether as that account's verified self.
SELECT p.identity_id::TEXT, count(DISTINCT p.account_id)::INT,
       bool_or(p.is_self AND p.self_verified_at IS NOT NULL)
  FROM patients p
 WHERE p.identity_id = ANY ($2::UUID[]) AND p.removed_at IS NULL AND NOT (p.account_id = ANY ($1::UUID[]))
 GROUP BY p.identity_id;

-- name: audit_since
-- Of one hospital ($2), or of all with $2 empty; with $3 and $4 (the time
-- and id of the previous page's last entry) only those after it in the
-- page's order, which (ts, id) makes total: no entry of equal time is
-- skipped or repeated at a boundary. The actor's work name only when the
-- actor works for the entry's hospital or for none (the platform's): a copy
-- of another hospital's desk action names that hospital instead
-- (AuditEntry.ActorHospitalElsewhere; review17b L5).
SELECT l.id::TEXT, l.ts, COALESCE(l.actor_id::TEXT, ''), l.actor_role, l.action, l.target, l.reason,
       COALESCE(l.hospital_id::TEXT, ''),
       CASE WHEN a.hospital_id IS NOT NULL AND l.hospital_id IS NOT NULL AND a.hospital_id <> l.hospital_id
            THEN '' ELSE COALESCE(a.staff_name, '') END,
       CASE WHEN a.hospital_id IS NOT NULL AND l.hospital_id IS NOT NULL AND a.hospital_id <> l.hospital_id
            THEN a.hospital_id::TEXT ELSE '' END
  FROM audit_log l LEFT JOIN accounts a ON a.id = l.actor_id
 WHERE l.ts >= $1 AND ($2::TEXT = '' OR l.hospital_id::TEXT = $2::TEXT)
   AND ($4::UUID IS NULL OR (l.ts, l.id) < ($3::TIMESTAMPTZ, $4::UUID))
   -- review25 M3's filters, each NULL or '' for none: the actor ($5), the
   -- action ($6), the session ($7): its own rows (session:<id>, or
   -- session:<id>/<channel>) and those of its bookings (booking:<id>).
   AND ($5::UUID IS NULL OR l.actor_id = $5::UUID)
   AND ($6::TEXT = '' OR l.action = $6::TEXT)
   AND ($7::UUID IS NULL OR l.target = 'session:' || $7::TEXT OR l.target LIKE 'session:' || $7::TEXT || '/%'
        OR (l.target LIKE 'booking:%'
            AND EXISTS (SELECT 1 FROM bookings b WHERE b.session_id = $7::UUID AND l.target = 'booking:' || b.id::TEXT)))
 ORDER BY l.ts DESC, l.id DESC LIMIT 1000;

-- name: audit_entry_time
SELECT ts FROM audit_log WHERE id = $1::UUID AND ($2::TEXT = '' OR hospital_id::TEXT = $2::TEXT);

-- name: blocked_accounts
-- The accounts blocked at $1 and when each block ends (NULL: until lifted).
SELECT id::TEXT, blocked_until FROM accounts WHERE blocked AND (blocked_until IS NULL OR blocked_until > $1);

-- Lottery release (lottery.go).

-- name: open_pools_for_share
-- The entry batch's fence against the draw: the pools still open, locked
-- FOR SHARE until the batch commits. The draw's claim (an UPDATE) waits for
-- these locks, and every batch after it finds the pool drawing.
SELECT session_id::TEXT, channel FROM lottery_pools
 WHERE session_id = ANY ($1::UUID[]) AND status = 'open'
 FOR SHARE;

-- name: insert_entries_with_events
-- A batch of entries and their events from parallel arrays, in one
-- statement, sent after open_pools_for_share in the same implicit
-- transaction (InsertEntries). Only entries of open pools go in; a row that
-- meets a conflict (its id again: a replay; or a live entry of the person in
-- the session) goes in as nothing; each entry that went in gets its one
-- event (a retry may bring an entry twice: DISTINCT ON). An entry under a
-- name that is not its identity's verified name stays out, as a booking
-- does (insert_booking), so the check needs no read of its own before the
-- batch. The answer names the entries that went in (true) and those the
-- guard kept out (false), read in the statement's one snapshot, with
-- whether the person's death was recorded (0083_a: identity_deceased, not
-- identity_unverified, session 25).
WITH e AS (
    INSERT INTO lottery_entries (id, session_id, channel, hospital_id, identity_id, patient_id, account_id,
                                 booked_by, waitlist, status, created_at, updated_at, name_hash, commitment)
    SELECT t.id, t.session_id, t.channel, t.hospital_id, t.identity_id, t.patient_id, t.account_id,
           t.booked_by, t.waitlist, 'entered', t.created_at, t.created_at, t.name_hash,
           COALESCE(t.commitment, (SELECT p.commitment FROM lottery_pools p
                                    WHERE p.session_id = t.session_id AND p.channel = t.channel))
      FROM unnest($1::UUID[], $2::UUID[], $3::TEXT[], $4::UUID[], $5::UUID[], $6::UUID[], $7::UUID[],
                  $8::UUID[], $9::BOOL[], $10::TIMESTAMPTZ[], $29::BYTEA[], $30::BYTEA[])
           AS t (id, session_id, channel, hospital_id, identity_id, patient_id, account_id, booked_by,
                 waitlist, created_at, name_hash, commitment)
     WHERE EXISTS (SELECT 1 FROM lottery_pools p
                    WHERE p.session_id = t.session_id AND p.channel = t.channel AND p.status = 'open')
       AND NOT EXISTS (SELECT 1 FROM identities i
                        WHERE i.id = t.identity_id
                          AND (i.deceased_at IS NOT NULL
                               OR i.name_verified_at IS NOT NULL AND t.name_hash IS NOT NULL AND i.name_hash <> t.name_hash))
    ON CONFLICT DO NOTHING
    RETURNING id
), ev AS (
    INSERT INTO booking_events (id, ts, type, account_id, patient_id, booking_id, session_id,
                                hospital_id, department_id, doctor_id, channel, ip, device_id,
                                phone, release_at, reason, staff_id, identity_id, card_source)
    SELECT DISTINCT ON (v.booking_id) v.id, v.ts, v.type, v.account_id, v.patient_id, v.booking_id,
           v.session_id, v.hospital_id, v.department_id, v.doctor_id, v.channel, v.ip, v.device_id,
           v.phone, v.release_at, v.reason, v.staff_id, v.identity_id, NULLIF(v.card_source, '')
      FROM unnest($11::UUID[], $12::TIMESTAMPTZ[], $13::TEXT[], $14::UUID[], $15::UUID[], $16::UUID[],
                  $17::UUID[], $18::UUID[], $19::UUID[], $20::UUID[], $21::TEXT[], $22::TEXT[],
                  $23::TEXT[], $24::TEXT[], $25::TIMESTAMPTZ[], $26::TEXT[], $27::UUID[], $28::UUID[], $40::TEXT[])
           AS v (id, ts, type, account_id, patient_id, booking_id, session_id, hospital_id, department_id,
                 doctor_id, channel, ip, device_id, phone, release_at, reason, staff_id, identity_id, card_source)
     WHERE v.booking_id IN (SELECT id FROM e)
     ORDER BY v.booking_id
), audit AS (
    -- The audit entries of the entries staff made ($31-$39: the entry each
    -- belongs to, then the entry's columns; booking.StaffEntryAudit), for
    -- the entries that went in, as insert_bookings_with_events writes a
    -- staff booking's.
    INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason, hospital_id)
    SELECT DISTINCT ON (a.entry_id) a.id, a.ts, a.actor_id, a.actor_role, a.action, a.target, a.reason,
           a.hospital_id
      FROM unnest($31::UUID[], $32::UUID[], $33::TIMESTAMPTZ[], $34::UUID[], $35::TEXT[], $36::TEXT[],
                  $37::TEXT[], $38::TEXT[], $39::UUID[])
           AS a (entry_id, id, ts, actor_id, actor_role, action, target, reason, hospital_id)
     WHERE a.entry_id IN (SELECT id FROM e)
     ORDER BY a.entry_id
)
SELECT id::TEXT, true, false FROM e
UNION ALL
SELECT u.id::TEXT, false, i.deceased_at IS NOT NULL
  FROM unnest($1::UUID[], $5::UUID[], $29::BYTEA[]) AS u (id, identity_id, name_hash)
  JOIN identities i ON i.id = u.identity_id
 WHERE i.deceased_at IS NOT NULL
    OR i.name_verified_at IS NOT NULL AND u.name_hash IS NOT NULL AND i.name_hash <> u.name_hash;

-- name: entries_by_id
SELECT id::TEXT, session_id::TEXT, identity_id::TEXT FROM lottery_entries WHERE id = ANY ($1::UUID[]);

-- name: entry_rows
SELECT e.id::TEXT, e.session_id::TEXT, e.hospital_id::TEXT, e.channel, e.identity_id::TEXT, i.id_hash,
       COALESCE(e.patient_id::TEXT, ''), COALESCE(e.account_id::TEXT, ''), COALESCE(e.booked_by::TEXT, ''),
       e.waitlist, e.status, COALESCE(e.draw_rank, 0), e.reason, COALESCE(e.flag_id, ''), e.created_at,
       e.updated_at, i.number_masked, i.name_masked, e.name_hash, e.commitment
  FROM lottery_entries e JOIN identities i ON i.id = e.identity_id

-- name: entry
 WHERE e.id = $1;

-- name: entries_of_account
 WHERE e.account_id = $1 ORDER BY e.created_at DESC, e.id LIMIT 200;

-- name: live_entries_made_by
-- The lottery entries account $1 made still entered, a page after the
-- entry $2 (NULL: from the first) by id, $3 of them: what a closing
-- withdraws, all of them page by page (not the list's newest 200).
 WHERE e.account_id = $1 AND e.status = 'entered' AND ($2::UUID IS NULL OR e.id > $2::UUID)
 ORDER BY e.id LIMIT $3;

-- name: entries_by_others
-- An identity's lottery entries that patient accounts other than $2 made,
-- still entered or made since $3 (MadeByOthers).
 WHERE e.identity_id = $1 AND e.account_id IS NOT NULL AND e.account_id <> $2
   AND (e.status = 'entered' OR e.created_at > $3)
 ORDER BY e.created_at DESC, e.id LIMIT 200;

-- name: entries_by_account
-- An identity's lottery entries that account $2 made, still entered or
-- made since $3 (MadeByAccount).
 WHERE e.identity_id = $1 AND e.account_id = $2
   AND (e.status = 'entered' OR e.created_at > $3)
 ORDER BY e.created_at DESC, e.id LIMIT 200;

-- name: pool_entries
-- Ranked entries in drawn order, then the others.
 WHERE e.session_id = $1 AND e.channel = $2
 ORDER BY COALESCE(e.draw_rank, 2147483647), e.id;

-- name: live_entries
 WHERE e.hospital_id = $1 AND e.status IN ('entered', 'held_out')
   AND e.session_id IN (SELECT id FROM clinic_sessions WHERE visit_date >= $2::DATE);

-- name: held_out_entries
 WHERE e.flag_id = $1 AND e.status = 'held_out';

-- name: entry_statuses
SELECT id::TEXT, status FROM lottery_entries WHERE id = ANY ($1::UUID[]);

-- name: pool_status_for_share
SELECT status FROM lottery_pools WHERE session_id = $1 AND channel = $2 FOR SHARE;

-- name: withdraw_entry
UPDATE lottery_entries SET status = 'withdrawn', updated_at = $2 WHERE id = $1 AND status = 'entered';

-- name: insert_seed
INSERT INTO lottery_pools (session_id, channel, hospital_id, opens_at, draw_at, seed_sealed, commitment, created_at, seed_sealing,
                           commitment_recipe)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (session_id, channel) DO NOTHING;

-- name: due_pools
-- An open pool of a stopped clinic is not drawn: the stop withdrew its
-- entries and a draw of nobody would publish a seed for nothing (it reads
-- as stopped, booking.DrawStopped). One a drawer has claimed is finished.
SELECT p.session_id::TEXT, p.channel FROM lottery_pools p
 WHERE p.status IN ('open', 'drawing') AND p.draw_at <= $1
   AND (p.status = 'drawing' OR NOT EXISTS (
        SELECT 1 FROM clinic_sessions cs WHERE cs.id = p.session_id AND cs.stopped_at IS NOT NULL))
 ORDER BY p.draw_at, p.session_id, p.channel
 LIMIT 200;

-- name: claim_draw
-- One claim at a time: an open pool, or one whose drawer's lease ran out
-- (or this instance's own). The row lock waits for entry batches in flight.
-- Never a pool sealed ($7) or committed ($8) by a newer build than this
-- one: it is left to an instance that can open it (review21b H1).
UPDATE lottery_pools
   SET status = 'drawing', lease_owner = $3, lease_until = $5, draw_started_at = COALESCE(draw_started_at, $4)
 WHERE session_id = $1 AND channel = $2 AND draw_at <= $6
   AND (status = 'open' OR (status = 'drawing' AND (lease_until < $4 OR lease_owner = $3)))
   AND seed_sealing <= $7 AND commitment_recipe <= $8
RETURNING hospital_id::TEXT, opens_at, draw_at, seed_sealed, commitment, stage, created_at, seed_sealing, commitment_recipe;

-- name: save_ranking_pool
-- unverified: the eligible entries ($11) whose identity's name nobody had
-- verified when they were ranked (review20 M3: published, naming nobody).
UPDATE lottery_pools
   SET stage = 'ranked', entries_digest = $4, slots = $5, entries = $6, eligible = $7, held_out = $8,
       excluded = $9, lease_until = $10,
       unverified = (SELECT count(*)::INT FROM lottery_entries e JOIN identities i ON i.id = e.identity_id
                      WHERE e.id = ANY ($11::UUID[]) AND i.name_verified_at IS NULL)
 WHERE session_id = $1 AND channel = $2 AND lease_owner = $3 AND status = 'drawing' AND stage = '';

-- name: rank_entries
UPDATE lottery_entries AS e SET draw_rank = v.r, updated_at = $3
  FROM unnest($1::UUID[], $2::INT[]) AS v (id, r)
 WHERE e.id = v.id AND e.status = 'entered';

-- name: decide_entries
UPDATE lottery_entries AS e SET status = v.st, reason = v.why, flag_id = NULLIF(v.flag, ''), updated_at = $5
  FROM unnest($1::UUID[], $2::TEXT[], $3::TEXT[], $4::TEXT[]) AS v (id, st, why, flag)
 WHERE e.id = v.id AND e.status = 'entered';

-- name: save_outcomes_pool
UPDATE lottery_pools SET stage = 'booked', lease_until = $4
 WHERE session_id = $1 AND channel = $2 AND lease_owner = $3 AND status = 'drawing' AND stage = 'ranked';

-- name: finish_draw
UPDATE lottery_pools
   SET status = 'drawn', seed = $4, winners = $5, drawn_at = $6, lease_until = NULL
 WHERE session_id = $1 AND channel = $2 AND lease_owner = $3 AND status = 'drawing' AND stage = 'booked';

-- name: pools_sharing_seed
-- The pools other than ($1, $2) whose commitment is $3 or whose published
-- seed is $4 (lottery verify: a seed or commitment is one pool's).
SELECT session_id::TEXT, channel FROM lottery_pools
 WHERE NOT (session_id = $1 AND channel = $2) AND (commitment = $3 OR seed = $4)
 ORDER BY session_id, channel;

-- name: pool_status
SELECT status FROM lottery_pools WHERE session_id = $1 AND channel = $2;

-- name: settle_held_out
UPDATE lottery_entries SET status = $2, updated_at = $3 WHERE id = ANY ($1::UUID[]) AND status = 'held_out';

-- name: lottery_pools
-- Until the draw ranks a pool (stage ''), its entries are the live ones so
-- far, counted here (the index by pool); from then on, those it ranked.
SELECT p.session_id::TEXT, p.channel, p.hospital_id::TEXT, p.opens_at, p.draw_at, p.commitment, p.commitment_recipe, p.seed, p.status,
       p.drawn_at, p.entries_digest, p.slots,
       CASE WHEN p.stage = '' THEN (SELECT count(*) FROM lottery_entries e
                                     WHERE e.session_id = p.session_id AND e.channel = p.channel
                                       AND e.status <> 'withdrawn')::INT
            ELSE p.entries END,
       p.eligible, p.held_out, p.excluded, p.winners, p.unverified
  FROM lottery_pools p WHERE p.session_id = ANY ($1::UUID[])
 ORDER BY p.session_id, p.channel;

-- Small lookups inside the transactions of desk.go, flags.go and store.go.

-- name: account_other_holder
-- The account's holder (本人) when it is another person than identity $2
-- (another document of the same person, linked, is not): its row, and
-- whether the desk bound it.
SELECT p.id::TEXT, p.self_verified_at IS NOT NULL
  FROM patients p JOIN identities i ON i.id = p.identity_id
 WHERE p.account_id = $1 AND p.is_self AND p.removed_at IS NULL AND p.identity_id <> $2
   AND COALESCE(i.person_id, i.id) <> COALESCE((SELECT person_id FROM identities WHERE id = $2), $2)
 LIMIT 1;

-- name: drop_other_selves
-- The desk bound another identity as this account's self.
UPDATE patients SET is_self = false, relationship = 'other', self_verified_at = NULL
 WHERE account_id = $1 AND identity_id <> $2 AND is_self;

-- name: identity_hash
SELECT id_hash FROM identities WHERE id = $1;

-- name: booking_identity
SELECT identity_id::TEXT FROM bookings WHERE id = $1;

-- name: held_in_session
-- Whether an identity holds a session (a booking) or waits for it.
SELECT (SELECT count(*) FROM bookings
         WHERE session_id = $1 AND identity_id = $2 AND status IN ('confirmed', 'checked_in')),
       (SELECT count(*) FROM waitlist WHERE session_id = $1 AND identity_id = $2 AND status = 'waiting');

-- name: place_in_open_round
-- The round and key of an identity's waiting place in a round still open
-- at $3: a place beside it takes them (AddWaitlistBeside).
SELECT round_ends_at, wait_key FROM waitlist
 WHERE session_id = $1 AND identity_id = $2 AND status = 'waiting' AND round_ends_at > $3
 ORDER BY wait_key LIMIT 1;

-- name: keyed_audit
SELECT target, reason, COALESCE(hospital_id::TEXT, '') FROM audit_log WHERE id = $1;

-- name: flag_exists
SELECT count(*) FROM flags WHERE id = $1;

-- name: key_fingerprint
SELECT fingerprint FROM key_check WHERE id = 1;

-- name: record_key_fingerprint
-- The first to record wins; a second instance racing it with another key
-- reads the first's back and is refused.
INSERT INTO key_check (id, fingerprint, recorded_at) VALUES (1, $1, now())
ON CONFLICT (id) DO NOTHING;

-- name: sealed_phone_sample
-- One value sealed under the master key, to prove a key against data that
-- was there before key_check was (0038); a closed account's is erased
-- (empty: close_account), and so is one whose number the desk released
-- (ReleaseAccountPhone): neither opens under any key.
SELECT phone_sealed FROM accounts WHERE octet_length(phone_sealed) > 0 LIMIT 1;

-- name: save_reset_code
-- A clerk's reset code for an account: a new one replaces the last.
INSERT INTO password_reset_codes (account_id, code_hash, issued_by, hospital_id, issued_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (account_id) DO UPDATE
   SET code_hash = excluded.code_hash, issued_by = excluded.issued_by, hospital_id = excluded.hospital_id,
       issued_at = excluded.issued_at, expires_at = excluded.expires_at;

-- name: take_reset_code
-- Uses up an account's reset code if it is this one and still good.
DELETE FROM password_reset_codes
 WHERE account_id = $1 AND code_hash = $2 AND expires_at > $3
RETURNING issued_by::TEXT, COALESCE(hospital_id::TEXT, '');

-- name: sealed_names
-- The sealed names behind keyed hashes (voidDisproved's nearness): an
-- identity's, and the claims of patient rows (a claim the retention job
-- erased, or a row from before claims, has none).
SELECT id::TEXT, name_hash, name_sealed FROM identities WHERE id = $1 AND name_sealed IS NOT NULL
UNION ALL
SELECT id::TEXT, name_hash, name_sealed FROM patients
 WHERE id = ANY ($2::UUID[]) AND name_hash IS NOT NULL AND name_sealed IS NOT NULL;

-- name: correct_booking_name
-- A booking made under a near miss of the name the desk verified carries
-- the verified one ($3) from now on; booked_name_hash keeps the one it was
-- made under ($2), as a check-in's override does.
UPDATE bookings SET name_hash = $3, booked_name_hash = COALESCE(booked_name_hash, name_hash)
 WHERE id = $1 AND status = 'confirmed' AND name_hash = $2;

-- name: insert_booking_notification
INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, booking_id, body, created_at, call_back)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE);
-- name: namesake_entered
-- Whether another member of account $2 under the same name as patient $1,
-- with another type of document, is entered in session $3's draw (or was
-- drawn): one person at a draw (NamesakeEntered).
SELECT EXISTS (
    SELECT 1 FROM patients p JOIN identities i ON i.id = p.identity_id
      JOIN patients o ON o.account_id = p.account_id AND o.id <> p.id AND o.removed_at IS NULL
      JOIN identities oi ON oi.id = o.identity_id
      JOIN lottery_entries e ON e.session_id = $3 AND e.status <> 'withdrawn'
                            AND e.identity_id = COALESCE(oi.person_id, oi.id)
     WHERE p.id = $1 AND p.account_id = $2 AND oi.id_type <> i.id_type
       AND COALESCE(o.name_hash, oi.name_hash) = COALESCE(p.name_hash, i.name_hash));

-- name: link_identity
-- A document ($1) and every document linked to it become the person's ($2).
UPDATE identities SET person_id = $2 WHERE (id = $1 OR person_id = $1) AND id <> $2;

-- name: person_links
-- How many documents are linked to a person (WatchLinks: a change is a new
-- link); the partial index identities_by_person holds only those.
SELECT count(*) FROM identities WHERE person_id IS NOT NULL;

-- name: link_bookings
UPDATE bookings SET identity_id = $2 WHERE identity_id = $1;

-- name: link_entries
UPDATE lottery_entries SET identity_id = $2 WHERE identity_id = $1;

-- name: link_waitlist
UPDATE waitlist SET identity_id = $2 WHERE identity_id = $1;

-- name: link_bars
UPDATE bars SET identity_id = $2 WHERE identity_id = $1;

-- name: link_blocks
-- A flag that blocked both documents keeps one block, the person's.
UPDATE identity_blocks b SET identity_id = $2
 WHERE b.identity_id = $1
   AND NOT EXISTS (SELECT 1 FROM identity_blocks k WHERE k.flag_id = b.flag_id AND k.identity_id = $2);

-- name: unlink_blocks_left
DELETE FROM identity_blocks WHERE identity_id = $1;

-- name: flags_concerning
-- The flags that name the account $1 or a person of $2 (identity ids), for
-- the account's copy of its data: newest first, at most 100.
 WHERE account_ids @> jsonb_build_array($1::TEXT) OR patient_ids ?| $2::TEXT[]
 ORDER BY created_at DESC, id
 LIMIT 100;

-- name: events_of_account
-- The account's own events (it is their account_id), newest first, for its
-- copy of its data.
 WHERE account_id = $1
 ORDER BY ts DESC, id
 LIMIT $2;

-- name: verified_name_of
-- The verified name of the person with ID hash $1, before a correction
-- replaces it (it becomes a former name).
SELECT name_hash, name_sealed FROM identities WHERE id_hash = $1 AND name_verified_at IS NOT NULL;

-- name: insert_former_name
-- A former name of identity $1 (keepFormerNames); kept once.
INSERT INTO identity_former_names (id, identity_id, name_hash, name_sealed, recorded_at)
VALUES (gen_random_uuid(), $1, $2, $3, $4)
ON CONFLICT (identity_id, name_hash) DO NOTHING;

-- name: is_former_name
SELECT count(*) FROM identity_former_names WHERE identity_id = $1 AND name_hash = $2;

-- name: former_names_of
-- The former names of identity $1, oldest first (the copy of its data).
SELECT name_hash, name_sealed, recorded_at FROM identity_former_names
 WHERE identity_id = $1
 ORDER BY recorded_at, id;

-- name: rename_listed
-- Every account's list entry of identity $1 under its former name $2 takes
-- the verified name ($3–$5). RETURNING the accounts, to tell them.
UPDATE patients SET name_hash = $3, name_sealed = $4, name_masked = $5
 WHERE identity_id = $1 AND name_hash = $2 AND removed_at IS NULL
RETURNING account_id::TEXT;

-- name: rename_bookings_made
-- A confirmed booking made under a former name carries the verified one;
-- booked_name_hash keeps the one it was made under (as correct_booking_name).
UPDATE bookings SET name_hash = $3, booked_name_hash = COALESCE(booked_name_hash, name_hash)
 WHERE identity_id = $1 AND name_hash = $2 AND status = 'confirmed';

-- name: rename_places_made
UPDATE waitlist SET name_hash = $3 WHERE identity_id = $1 AND name_hash = $2 AND status = 'waiting';

-- name: insert_person_notification
-- A notice to account $4 about person $5, of no booking.
INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, booking_id, body, created_at, call_back)
VALUES (gen_random_uuid(), $1, NULL, $2, $3, $4, NULL, $5, $6, FALSE);

-- name: identity_is_deceased
SELECT deceased_at IS NOT NULL FROM identities WHERE id = $1;

-- name: death_recorded_in
-- Whether the person's death was recorded at hospital $2, or its audit
-- entry copied there (LiftDeath: whose administrator may lift it).
SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = 'identity_deceased' AND target = $1 AND hospital_id = $2::UUID);

-- name: lift_deceased
-- An administrator lifted a death recorded in error (LiftDeath): the
-- person is added and booked again from now on.
UPDATE identities SET deceased_at = NULL WHERE id = $1 AND deceased_at IS NOT NULL;

-- name: insert_audit_where_death
-- The lift's audit entry copied to every hospital the death's entry went
-- to ($5 the target), other than the acting administrator's ($7).
INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason, hospital_id)
SELECT gen_random_uuid(), $1::TIMESTAMPTZ, $2::UUID, $3::TEXT, $4::TEXT, $5::TEXT, $6::TEXT, d.hospital_id
  FROM (SELECT DISTINCT hospital_id FROM audit_log
         WHERE action = 'identity_deceased' AND target = $5::TEXT AND hospital_id IS NOT NULL) AS d
 WHERE d.hospital_id IS DISTINCT FROM $7::UUID;

-- name: listers_of_identity
-- The accounts listing the person (LiftDeath tells each).
SELECT DISTINCT account_id::TEXT FROM patients WHERE identity_id = $1 AND removed_at IS NULL;

-- name: mark_deceased
-- The desk recorded the person's death (RecordDeath): from now on nothing
-- is booked, entered or waitlisted for them, nor are they added.
UPDATE identities SET deceased_at = $2 WHERE id = $1 AND deceased_at IS NULL;
