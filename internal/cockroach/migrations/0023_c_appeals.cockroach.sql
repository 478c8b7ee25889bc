-- Appeals (申诉) of blocked accounts are cases too (issue 13): kind appeal,
-- in the platform administrators' queue (hospital_id the nil UUID).
-- CockroachDB names a column's CHECK check_<column>.
ALTER TABLE patient_cases DROP CONSTRAINT IF EXISTS check_kind;
-- Under PostgreSQL's name too, should the server name it so.
ALTER TABLE patient_cases DROP CONSTRAINT IF EXISTS patient_cases_kind_check;
ALTER TABLE patient_cases DROP CONSTRAINT IF EXISTS patient_cases_kind_known;
ALTER TABLE patient_cases ADD CONSTRAINT patient_cases_kind_known CHECK (kind IN ('report', 'complaint', 'appeal'));
