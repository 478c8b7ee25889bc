-- 停诊 with a substitute doctor (issue 14): the slot held for each patient of
-- a stopped clinic in the substitute's session is a booking (bookings.id =
-- booking_id), offered until hold_until; the patient accepts it (it stays),
-- declines it or lets it lapse (it is cancelled without penalty). One offer
-- per cancelled booking.
CREATE TABLE IF NOT EXISTS substitute_offers (
    booking_id          UUID PRIMARY KEY,
    original_booking_id UUID NOT NULL UNIQUE,
    stopped_session_id  UUID NOT NULL REFERENCES clinic_sessions (id),
    session_id          UUID NOT NULL REFERENCES clinic_sessions (id),
    hospital_id         UUID NOT NULL REFERENCES hospitals (id),
    account_id          UUID,
    identity_id         UUID NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('offered', 'accepted', 'declined', 'lapsed')),
    hold_until          TIMESTAMPTZ NOT NULL,
    decided_at          TIMESTAMPTZ,
    decided_by          UUID,
    created_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS substitute_offers_due ON substitute_offers (status, hold_until);
CREATE INDEX IF NOT EXISTS substitute_offers_by_account ON substitute_offers (account_id, created_at);
