-- Where the card came from (review25 H1, L1): the card readers a hospital
-- registers for its desk. A reader's driver signs each read with the
-- reader's key (an HMAC, internal/cardreader); the key is kept sealed as
-- names are, shown to the administrator once. A retired reader's reads are
-- refused.
CREATE TABLE IF NOT EXISTS card_readers (
    id          UUID PRIMARY KEY,
    hospital_id UUID        NOT NULL,
    name        TEXT        NOT NULL,
    key_sealed  BYTEA       NOT NULL,
    created_by  UUID        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS card_readers_by_hospital ON card_readers (hospital_id, created_at);

-- A desk login move the card did not prove (a typed number) waits a
-- cooling-off during which the account's holder is told and may cancel it
-- (review25 H4). One per account. code_hash is the reset code the clerk
-- handed over, stored as a reset code only when the move takes effect.
CREATE TABLE IF NOT EXISTS pending_login_moves (
    account_id   UUID PRIMARY KEY,
    phone_hash   BYTEA       NOT NULL,
    phone_sealed BYTEA       NOT NULL,
    phone_masked TEXT        NOT NULL,
    code_hash    BYTEA       NOT NULL,
    requested_by UUID        NOT NULL,
    hospital_id  UUID        NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    card         TEXT        NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_login_moves_due ON pending_login_moves (due_at);

-- How the desk read the card behind a check-in or a walk-in booking:
-- reader or typed (Event.CardSource), for the detector to count typed acts.
ALTER TABLE booking_events ADD COLUMN IF NOT EXISTS card_source TEXT;

-- The notices of a desk login move that waits: asked for (the holder told,
-- with the hospital and the masked number) and cancelled.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed', 'account_phone_released', 'session_restored', 'account_login_moved',
                    'session_moved', 'account_closing_requested', 'account_closing_cancelled', 'account_holder_changed',
                    'listing_removed_by_person', 'death_lifted', 'account_login_move_requested', 'account_login_move_cancelled'));
