-- Scalper detection: the person behind each event, and the review queue.

ALTER TABLE booking_events ADD COLUMN IF NOT EXISTS identity_id UUID;

-- A flag is a group of accounts and identities that look like scalpers,
-- with the evidence. Its id is derived from its members, so the detector
-- finds the same flag again on the next run.
CREATE TABLE IF NOT EXISTS flags (
    id          TEXT PRIMARY KEY,
    score       FLOAT8 NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'dismissed')),
    reasons     JSONB NOT NULL,
    account_ids JSONB NOT NULL,
    patient_ids JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    decided_at  TIMESTAMPTZ,
    decided_by  UUID,
    note        TEXT NOT NULL DEFAULT '',
    -- the score the decision was made at: a dismissed flag reopens only on
    -- clearly stronger evidence
    decided_score FLOAT8
);
CREATE INDEX IF NOT EXISTS flags_by_status ON flags (status, score);
CREATE INDEX IF NOT EXISTS booking_events_by_account ON booking_events (account_id, ts);

-- Accounts blocked by a confirmed flag stay blocked until then.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS blocked_until TIMESTAMPTZ;

-- Identities blocked by a confirmed flag: read with the no-show bars.
CREATE TABLE IF NOT EXISTS identity_blocks (
    flag_id     TEXT NOT NULL REFERENCES flags (id),
    identity_id UUID NOT NULL REFERENCES identities (id),
    until       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (flag_id, identity_id)
);
