-- A family member's relationship to the account holder, and the birth year
-- their ID document carries (a resident ID's digits 7-10; NULL for other
-- documents and for rows from before it was kept), so the consoles can tell
-- apart members whose masked names collide: 陈静, 陈一 and 陈二 all show as
-- 陈* (issue 13). A birth year alone is far less identifying than the name
-- or the ID number; docs/security.md says why it may be shown.
ALTER TABLE patients ADD COLUMN IF NOT EXISTS relationship TEXT NOT NULL DEFAULT 'other';
ALTER TABLE patients ADD COLUMN IF NOT EXISTS birth_year INT;
-- Dropped first so that the file can run again (CockroachDB runs it a
-- statement at a time: migrate.go).
ALTER TABLE patients DROP CONSTRAINT IF EXISTS patients_relationship;
ALTER TABLE patients ADD CONSTRAINT patients_relationship
    CHECK (relationship IN ('self', 'spouse', 'child', 'parent', 'other'));
