-- A flag an upheld appeal overturned says so (review21 M3): status
-- overturned, not left confirmed.
ALTER TABLE flags DROP CONSTRAINT IF EXISTS flags_status_check;
ALTER TABLE flags DROP CONSTRAINT IF EXISTS flags_status_known;
ALTER TABLE flags ADD CONSTRAINT flags_status_known CHECK (status IN ('open', 'confirmed', 'dismissed', 'overturned'));
