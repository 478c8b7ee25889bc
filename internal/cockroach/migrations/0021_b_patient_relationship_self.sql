-- Existing rows: the account holder's self is 本人, every other member
-- 其他 (the column's default). Its own file: CockroachDB does not let a
-- transaction write a column it added.
UPDATE patients SET relationship = 'self' WHERE is_self AND relationship <> 'self';
