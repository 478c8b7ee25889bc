-- Departments and doctors as a hospital's administrator keeps them
-- (doctors.go). Nothing is deleted: a retired row stays for the sessions
-- and bookings that name it.

-- name: create_department
INSERT INTO departments (id, hospital_id, name) VALUES ($1, $2, $3)
ON CONFLICT (id) DO NOTHING;

-- name: rename_department
UPDATE departments SET name = $2 WHERE id = $1 RETURNING id::TEXT;

-- name: department_state
-- $1 department. Whether it is retired, and locks the row: a doctor moved
-- into it and its retirement cannot cross.
SELECT retired_at IS NOT NULL FROM departments WHERE id = $1 FOR UPDATE;

-- name: department_staffed
-- A doctor still on the schedule in department $1.
SELECT name FROM doctors WHERE department_id = $1 AND retired_at IS NULL LIMIT 1;

-- name: retire_department
UPDATE departments SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL;

-- name: create_doctor
INSERT INTO doctors (id, hospital_id, department_id, name, title, fee_level) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO NOTHING;

-- name: update_doctor
UPDATE doctors SET department_id = $2, name = $3, title = $4, fee_level = $5
 WHERE id = $1 AND hospital_id = $6 AND retired_at IS NULL
RETURNING id::TEXT;

-- name: doctor_state
-- $1 doctor. Whether it is retired, locking the row: its retirement and a
-- session published for it cannot cross.
SELECT retired_at IS NOT NULL FROM doctors WHERE id = $1 FOR UPDATE;

-- name: doctor_upcoming
-- A session of doctor $1 that is not stopped and ends after $2.
SELECT visit_date::TEXT, period FROM clinic_sessions
 WHERE doctor_id = $1 AND stopped_at IS NULL AND ends_at > $2
 ORDER BY starts_at LIMIT 1;

-- name: retire_doctor
UPDATE doctors SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL;

-- name: create_template
INSERT INTO doctor_templates (id, hospital_id, doctor_id, name, body, updated_by, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO NOTHING;

-- name: update_template
UPDATE doctor_templates SET name = $2, body = $3, updated_by = $4, updated_at = $5
 WHERE id = $1
RETURNING id::TEXT;

-- name: template
SELECT id::TEXT, hospital_id::TEXT, doctor_id::TEXT, name, body, COALESCE(updated_by::TEXT, ''), updated_at
  FROM doctor_templates WHERE id = $1;

-- name: templates_of_doctor
SELECT id::TEXT, hospital_id::TEXT, doctor_id::TEXT, name, body, COALESCE(updated_by::TEXT, ''), updated_at
  FROM doctor_templates WHERE doctor_id = $1
 ORDER BY name, id;

-- name: delete_template
DELETE FROM doctor_templates WHERE id = $1 RETURNING id::TEXT;

-- name: tell_bookings
-- A doctor's fee level or title changed: each confirmed booking of the
-- sessions $1 is told, with its session's body $2 (Service.feeOrTitleNotices),
-- in the change's transaction; a booking no account made goes to the
-- call-back list.
INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, identity_id, booking_id, body, created_at, call_back)
SELECT gen_random_uuid(), b.hospital_id, b.session_id, $3, b.account_id, b.identity_id, b.id, t.body, $4::TIMESTAMPTZ,
       b.account_id IS NULL
  FROM bookings b JOIN unnest($1::UUID[], $2::TEXT[]) AS t (session_id, body) ON t.session_id = b.session_id
 WHERE b.status = 'confirmed';

-- name: hospital_named
-- A hospital of this name, whatever its case (AddHospital's check).
SELECT id::TEXT FROM hospitals WHERE lower(name) = lower($1) LIMIT 1;
