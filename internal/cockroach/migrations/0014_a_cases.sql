-- Reports (举报) and complaints (投诉), issue 13: a patient's case for the
-- administrators of one hospital, with its deadline (the 2024 notice: 5
-- working days, 10 when several departments are involved), its answer and
-- its closing. A report's phone number is kept as its keyed hash (what the
-- detector's events carry) and its mask, never in clear.
CREATE TABLE IF NOT EXISTS patient_cases (
    id                   UUID PRIMARY KEY,
    kind                 TEXT NOT NULL CHECK (kind IN ('report', 'complaint')),
    account_id           UUID NOT NULL,
    hospital_id          UUID NOT NULL,
    category             TEXT NOT NULL DEFAULT '',
    booking_id           UUID,
    offered_phone_hash   BYTEA,
    offered_phone_masked TEXT NOT NULL DEFAULT '',
    offered_account      TEXT NOT NULL DEFAULT '',
    body                 TEXT NOT NULL,
    several_departments  BOOL NOT NULL DEFAULT false,
    status               TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    created_at           TIMESTAMPTZ NOT NULL,
    due_at               TIMESTAMPTZ NOT NULL,
    answer               TEXT NOT NULL DEFAULT '',
    answered_by          UUID,
    answered_at          TIMESTAMPTZ,
    close_note           TEXT NOT NULL DEFAULT '',
    closed_by            UUID,
    closed_at            TIMESTAMPTZ,
    flag_id              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS patient_cases_by_account ON patient_cases (account_id, created_at);
CREATE INDEX IF NOT EXISTS patient_cases_by_hospital ON patient_cases (hospital_id, status, due_at);
CREATE INDEX IF NOT EXISTS patient_cases_by_flag ON patient_cases (flag_id);

-- Notifications become the patient's outbox: a case's answer or closing is
-- one too (no session), and the console marks them read.
ALTER TABLE notifications ALTER COLUMN session_id DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS case_id UUID;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS read_at TIMESTAMPTZ;
-- The notify job's scan: the undelivered ones, oldest first.
CREATE INDEX IF NOT EXISTS notifications_undelivered ON notifications (created_at) WHERE delivered_at IS NULL;
