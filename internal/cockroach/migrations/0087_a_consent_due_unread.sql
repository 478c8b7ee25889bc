-- Listings made before 0084 carry no 14th-birthday day (consent_due_on):
-- a child listed on a guardian's consent (or before consents were
-- recorded, session 22) is never asked for their own consent at 14. The
-- day is in the resident ID's digits 7-14, sealed in identities; the
-- migration cannot open it (the keys are the service's), so it marks the
-- rows that may need it and `fairslot serve` fills them at its start
-- (booking.Service.FillConsentDue), then clears the mark (false: read).
-- Marked: every listing still on a list, not a self, of a resident ID, by
-- the row's birth year possibly under 14 when listed (or no birth year:
-- rows before 0021), whose day is not set. Run again (CockroachDB's
-- statements apart), it marks nothing read before.
ALTER TABLE patients ADD COLUMN IF NOT EXISTS consent_due_unread BOOLEAN;
CREATE INDEX IF NOT EXISTS patients_consent_due_unread ON patients (id) WHERE consent_due_unread;
UPDATE patients SET consent_due_unread = true
 WHERE consent_due_unread IS NULL AND consent_due_on IS NULL AND removed_at IS NULL AND NOT is_self
   AND (birth_year IS NULL OR birth_year + 14 >= EXTRACT(YEAR FROM created_at))
   AND identity_id IN (SELECT id FROM identities WHERE id_type = 'resident_id');
