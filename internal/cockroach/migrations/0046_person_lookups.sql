-- A person's live lottery entries and waiting waitlist places, by person:
-- insert_audit_of_person copies every desk or caller lookup of a person to
-- each hospital where the person holds something, and without these it
-- read the whole of both tables (628 ms a lookup at 400,000 entries and
-- 200,000 places, review17b). Partial: only what takes part or waits.
CREATE INDEX IF NOT EXISTS lottery_entries_live_by_identity ON lottery_entries (identity_id) WHERE status = 'entered';
CREATE INDEX IF NOT EXISTS waitlist_waiting_by_identity ON waitlist (identity_id) WHERE status = 'waiting';
