-- A flag an upheld appeal overturned says so (review21 M3): status
-- overturned, not left confirmed.
-- CockroachDB names a column's CHECK check_<column>.
ALTER TABLE flags DROP CONSTRAINT IF EXISTS check_status;
-- Under PostgreSQL's name too, should the server name it so.
ALTER TABLE flags DROP CONSTRAINT IF EXISTS flags_status_check;
ALTER TABLE flags DROP CONSTRAINT IF EXISTS flags_status_known;
ALTER TABLE flags ADD CONSTRAINT flags_status_known CHECK (status IN ('open', 'confirmed', 'dismissed', 'overturned'));
