-- Every channel and the registration desk: staff-made bookings, check-in,
-- no-shows and bars, late cancellation, and the waitlist (候补).

-- A phone or desk booking belongs to an identity that may be on no account's
-- list: patient and account are then empty, and booked_by names the staff
-- member who made it.
ALTER TABLE bookings ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE bookings ALTER COLUMN account_id DROP NOT NULL;
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS booked_by UUID REFERENCES accounts (id);
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS checked_in_at TIMESTAMPTZ;
-- Cancelled after the hospital's deadline: counts as a no-show.
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS late_cancel BOOL NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS bookings_by_identity ON bookings (identity_id, visit_date);
CREATE INDEX IF NOT EXISTS bookings_by_session ON bookings (session_id, status);

-- Late cancellation: after this local time on the day before the visit.
ALTER TABLE hospitals ADD COLUMN IF NOT EXISTS cancel_deadline TEXT NOT NULL DEFAULT '15:00';

-- A bar on booking, earned by no-shows. The booking whose no-show crossed the
-- threshold is the trigger: one bar per trigger, so two no-show jobs running
-- at once bar a patient exactly once.
CREATE TABLE IF NOT EXISTS bars (
    trigger_booking_id UUID PRIMARY KEY REFERENCES bookings (id),
    identity_id        UUID NOT NULL REFERENCES identities (id),
    no_shows           INT  NOT NULL,
    until              TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS bars_by_identity ON bars (identity_id, until);

-- The waitlist of a session. The entry's id is also the id of the booking it
-- turns into when a returned slot reaches it.
CREATE TABLE IF NOT EXISTS waitlist (
    id          UUID PRIMARY KEY,
    session_id  UUID NOT NULL REFERENCES clinic_sessions (id),
    hospital_id UUID NOT NULL,
    patient_id  UUID NOT NULL REFERENCES patients (id),
    identity_id UUID NOT NULL REFERENCES identities (id),
    account_id  UUID NOT NULL REFERENCES accounts (id),
    status      TEXT NOT NULL CHECK (status IN ('waiting', 'served', 'cancelled', 'skipped')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS waitlist_one_per_identity ON waitlist (session_id, identity_id) WHERE status = 'waiting';
CREATE INDEX IF NOT EXISTS waitlist_by_session ON waitlist (session_id, status, created_at);

-- The staff member behind a phone, desk or reissue event.
ALTER TABLE booking_events ADD COLUMN IF NOT EXISTS staff_id UUID;
