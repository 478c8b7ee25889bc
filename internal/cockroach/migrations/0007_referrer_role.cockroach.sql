-- The referrer role: a community doctor or carer the hospital registers,
-- who books the referral channel for the people in their care. CockroachDB
-- names a column's CHECK constraint check_<column>.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS check_role;
-- And its own: the file can run again (a statement at a time: migrate.go),
-- and a CockroachDB that names it as PostgreSQL does drops the old one here.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('patient', 'operator', 'clerk', 'admin', 'referrer'));
