-- The referrer role: a community doctor or carer the hospital registers,
-- who books the referral channel for the people in their care. PostgreSQL
-- named the column's CHECK constraint accounts_role_check.
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('patient', 'operator', 'clerk', 'admin', 'referrer'));
