-- The reports folded into a case, read when it is answered or shown
-- (0050_a; an index apart from its column, as CockroachDB asks).
CREATE INDEX IF NOT EXISTS patient_cases_folded_into ON patient_cases (folded_into) WHERE folded_into IS NOT NULL;
