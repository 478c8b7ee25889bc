-- Queries of the booking store, one per "-- name:" block, loaded by
-- queries.go. Dates travel as text (YYYY-MM-DD) and ids as text, with casts
-- that PostgreSQL and CockroachDB both accept.

-- name: hospitals
SELECT id::TEXT, name, time_zone, per_day, per_week, per_month FROM hospitals;

-- name: departments
SELECT id::TEXT, hospital_id::TEXT, name FROM departments;

-- name: doctors
SELECT id::TEXT, hospital_id::TEXT, department_id::TEXT, name, title FROM doctors;

-- name: sessions_from
SELECT id::TEXT, hospital_id::TEXT, department_id::TEXT, doctor_id::TEXT, visit_date::TEXT,
       period, starts_at, ends_at, release_mode
  FROM clinic_sessions
 WHERE visit_date >= $1::DATE;

-- name: channels_from
SELECT c.session_id::TEXT, c.channel, c.quota, c.release_at
  FROM session_channels c JOIN clinic_sessions s ON s.id = c.session_id
 WHERE s.visit_date >= $1::DATE
 ORDER BY c.session_id, c.channel;

-- name: slots_from
SELECT sl.session_id::TEXT, sl.slot_no, sl.channel, sl.starts_at, sl.ends_at
  FROM slots sl JOIN clinic_sessions s ON s.id = sl.session_id
 WHERE s.visit_date >= $1::DATE
 ORDER BY sl.session_id, sl.slot_no;

-- name: insert_hospital
INSERT INTO hospitals (id, name, time_zone, per_day, per_week, per_month)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO NOTHING;

-- name: insert_department
INSERT INTO departments (id, hospital_id, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING;

-- name: insert_doctor
INSERT INTO doctors (id, hospital_id, department_id, name, title) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING;

-- name: insert_session
INSERT INTO clinic_sessions (id, hospital_id, department_id, doctor_id, visit_date, period,
                             starts_at, ends_at, release_mode)
VALUES ($1, $2, $3, $4, $5::DATE, $6, $7, $8, $9)
ON CONFLICT (id) DO NOTHING;

-- name: insert_channel
INSERT INTO session_channels (session_id, channel, quota, release_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (session_id, channel) DO NOTHING;

-- name: insert_slot
INSERT INTO slots (session_id, slot_no, channel, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (session_id, slot_no) DO NOTHING;

-- name: insert_account
INSERT INTO accounts (id, role, phone_hash, phone_sealed, phone_masked, password_hash, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: account_by_phone
SELECT id::TEXT, role, phone_hash, phone_masked, password_hash, blocked, created_at
  FROM accounts WHERE phone_hash = $1;

-- name: insert_event
INSERT INTO booking_events (id, ts, type, account_id, patient_id, booking_id, session_id,
                            hospital_id, department_id, doctor_id, channel, ip, device_id,
                            phone, release_at, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16);

-- name: insert_audit
INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: identity_by_hash
SELECT id::TEXT, name_hash FROM identities WHERE id_hash = $1;

-- name: insert_identity
INSERT INTO identities (id, id_type, id_hash, number_sealed, number_masked, name_hash,
                        name_sealed, name_masked)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: count_patients
SELECT count(*) FROM patients WHERE account_id = $1;

-- name: count_phone_accounts
SELECT count(DISTINCT account_id) FROM patients WHERE phone_hash = $1 AND account_id <> $2;

-- name: insert_patient
INSERT INTO patients (id, account_id, identity_id, is_self, phone_hash, phone_sealed, phone_masked)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: patient
SELECT p.id::TEXT, p.account_id::TEXT, p.identity_id::TEXT, i.id_hash, i.id_type, i.number_masked,
       i.name_masked, p.phone_masked, p.is_self, p.created_at
  FROM patients p JOIN identities i ON i.id = p.identity_id
 WHERE p.id = $1;

-- name: patients_of_account
SELECT p.id::TEXT, p.account_id::TEXT, p.identity_id::TEXT, i.id_hash, i.id_type, i.number_masked,
       i.name_masked, p.phone_masked, p.is_self, p.created_at
  FROM patients p JOIN identities i ON i.id = p.identity_id
 WHERE p.account_id = $1
 ORDER BY p.created_at, p.id;

-- name: insert_booking
INSERT INTO bookings (id, session_id, slot_no, hospital_id, department_id, doctor_id, visit_date,
                      patient_id, identity_id, account_id, channel, status, idempotency_key,
                      created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::DATE, $8, $9, $10, $11, $12, $13, $14);

-- name: booking_rows
-- How a booking reads: with its slot's times and its identity's hash. The
-- queries below complete it with a WHERE clause (bookingQuery in store.go).
SELECT b.id::TEXT, b.session_id::TEXT, b.hospital_id::TEXT, b.department_id::TEXT,
       b.doctor_id::TEXT, b.visit_date::TEXT, b.slot_no, sl.starts_at, sl.ends_at,
       b.patient_id::TEXT, b.identity_id::TEXT, i.id_hash, b.account_id::TEXT, b.channel,
       b.status, b.idempotency_key, b.created_at, b.cancelled_at
  FROM bookings b
  JOIN slots sl ON sl.session_id = b.session_id AND sl.slot_no = b.slot_no
  JOIN identities i ON i.id = b.identity_id;

-- name: booking
WHERE b.id = $1;

-- name: bookings_of_account
 WHERE b.account_id = $1
 ORDER BY b.created_at DESC, b.id
 LIMIT 500;

-- name: active_bookings
 WHERE b.hospital_id = $1 AND b.visit_date >= $2::DATE AND b.status IN ('confirmed', 'checked_in');

-- name: cancel_booking
UPDATE bookings SET status = 'cancelled', cancelled_at = $2
 WHERE id = $1 AND status = 'confirmed';

-- name: booking_statuses
SELECT id::TEXT, status FROM bookings WHERE id = ANY ($1::UUID[]);
