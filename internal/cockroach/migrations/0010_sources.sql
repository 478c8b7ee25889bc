-- Slot sources (issue 14): a stopped clinic (停诊) and the notifications it
-- leaves for each patient it touched.

-- A session the hospital stopped after publishing it: closed to every
-- channel, its bookings cancelled without penalty.
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS stopped_at TIMESTAMPTZ;
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS stop_reason TEXT NOT NULL DEFAULT '';

-- What a patient must be told, durably, until a channel delivers it (the
-- consoles' outbox; a phone or desk booking of nobody's list names only the
-- identity, whom the desk or the call centre tells). Written in the same
-- transaction as the change it tells of.
CREATE TABLE IF NOT EXISTS notifications (
    id           UUID PRIMARY KEY,
    hospital_id  UUID NOT NULL,
    session_id   UUID NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('session_stopped')),
    account_id   UUID,
    identity_id  UUID,
    booking_id   UUID,
    waitlist_id  UUID,
    entry_id     UUID,
    body         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS notifications_by_account ON notifications (account_id, created_at);
CREATE INDEX IF NOT EXISTS notifications_by_session ON notifications (session_id);
