-- What the retention job erases past its need (booking/retention.go,
-- docs/security.md "Retention", session 17): a removed family member's
-- number and name, an event's phone reference, a closed report's offered
-- number. Each scan goes by time over the rows still holding something to
-- erase, so an erased row leaves the index and a batch never reads the
-- ever-growing rest. (The events' index is 0043_b, one per flavor.)
CREATE INDEX IF NOT EXISTS patients_removed_to_erase ON patients (removed_at)
    WHERE removed_at IS NOT NULL AND (phone_hash IS NOT NULL OR phone_sealed IS NOT NULL OR name_sealed IS NOT NULL);
CREATE INDEX IF NOT EXISTS patient_cases_offered_phone ON patient_cases (created_at)
    WHERE offered_phone_hash IS NOT NULL;
