-- Retention of notifications, of persons nobody lists and of closed cases'
-- texts (review21 M7, session 23; booking/retention.go): the indexes the
-- retention job's three new statements read by.
--
-- An account's notifications read a year ago (notifications_by_account
-- serves a closed account's).
CREATE INDEX IF NOT EXISTS notifications_read_by_time ON notifications (created_at) WHERE read_at IS NOT NULL;
-- The identities whose sealed ID number or name is left, oldest first.
CREATE INDEX IF NOT EXISTS identities_sealed_by_time ON identities (created_at) WHERE number_sealed <> ''::BYTEA OR name_sealed <> ''::BYTEA;
-- Whether any account lists a person (its rows, listed or removed), and the
-- blocks naming a person (identity_blocks' key leads with the flag).
CREATE INDEX IF NOT EXISTS patients_by_identity ON patients (identity_id, removed_at);
CREATE INDEX IF NOT EXISTS identity_blocks_by_identity ON identity_blocks (identity_id, until);
-- Closed cases whose free texts are left, by closing time.
CREATE INDEX IF NOT EXISTS patient_cases_texts_by_closing ON patient_cases (closed_at)
 WHERE status = 'closed' AND (body <> '' OR answer <> '' OR close_note <> '');
