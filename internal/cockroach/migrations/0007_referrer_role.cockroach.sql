-- The referrer role: a community doctor or carer the hospital registers,
-- who books the referral channel for the people in their care. CockroachDB
-- names a column's CHECK constraint check_<column>.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS check_role;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('patient', 'operator', 'clerk', 'admin', 'referrer'));
