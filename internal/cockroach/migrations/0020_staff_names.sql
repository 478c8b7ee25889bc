-- A staff member's work name, shown to their administrators in the audit
-- log (issue 13). Patients have none here: their names live with their
-- identities, hashed and sealed.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS staff_name TEXT NOT NULL DEFAULT '';
