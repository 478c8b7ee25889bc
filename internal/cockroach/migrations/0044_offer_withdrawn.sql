-- A substitute offer (替诊) ends as withdrawn when the substitute's clinic
-- is stopped in turn (review17): the hospital ended it, not the patient
-- (declined) nor its time (lapsed). PostgreSQL names the column's CHECK
-- substitute_offers_status_check, CockroachDB check_status.
ALTER TABLE substitute_offers DROP CONSTRAINT IF EXISTS substitute_offers_status_check;
ALTER TABLE substitute_offers DROP CONSTRAINT IF EXISTS check_status;
ALTER TABLE substitute_offers DROP CONSTRAINT IF EXISTS substitute_offers_status_known;
ALTER TABLE substitute_offers ADD CONSTRAINT substitute_offers_status_known
    CHECK (status IN ('offered', 'accepted', 'declined', 'lapsed', 'withdrawn'));
