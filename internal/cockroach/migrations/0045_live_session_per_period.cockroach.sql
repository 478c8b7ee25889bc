-- A stopped clinic (停诊) stays as the record of what it cancelled, and no
-- longer holds its doctor's half-day: one session per doctor, date and
-- period among those not stopped, so the half-day may be published again
-- (review17: a stopped clinic blocked it for good). CockroachDB drops a
-- UNIQUE constraint by its index.
DROP INDEX IF EXISTS clinic_sessions@clinic_sessions_doctor_id_visit_date_period_key CASCADE;
CREATE UNIQUE INDEX IF NOT EXISTS clinic_sessions_one_live_per_period ON clinic_sessions (doctor_id, visit_date, period)
  WHERE stopped_at IS NULL;
