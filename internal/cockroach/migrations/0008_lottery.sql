-- Lottery release (issue 9): a channel pool is given out first-come or by a
-- verifiable lottery among the entries made in its window [opens_at, draw_at).

-- The release mode belongs to each channel pool; the session's own column
-- stays as a summary (lottery when any pool is). Existing lottery sessions
-- get the default window: open at the pool's release, draw ten minutes later.
ALTER TABLE session_channels ADD COLUMN IF NOT EXISTS release_mode TEXT NOT NULL DEFAULT 'first_come';
ALTER TABLE session_channels ADD COLUMN IF NOT EXISTS opens_at TIMESTAMPTZ;
ALTER TABLE session_channels ADD COLUMN IF NOT EXISTS draw_at TIMESTAMPTZ;
-- Dropped first so that the file can run again (CockroachDB runs it a
-- statement at a time: migrate.go).
ALTER TABLE session_channels DROP CONSTRAINT IF EXISTS session_channels_release_mode;
ALTER TABLE session_channels ADD CONSTRAINT session_channels_release_mode
    CHECK (release_mode IN ('first_come', 'lottery'));
UPDATE session_channels SET release_mode = 'lottery', opens_at = release_at,
       draw_at = release_at + INTERVAL '10 minutes'
 WHERE session_id IN (SELECT id FROM clinic_sessions WHERE release_mode = 'lottery');

-- One row per lottery pool, written when its entry window opens: the seed,
-- sealed with the service's key until the draw, and its SHA-256 commitment,
-- published from the start. The draw claims the row (status drawing, a lease)
-- so that it runs once even with several instances, and records each stage so
-- that a draw cut short resumes where it stopped.
CREATE TABLE IF NOT EXISTS lottery_pools (
    session_id      UUID NOT NULL REFERENCES clinic_sessions (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('online', 'phone', 'onsite', 'referral')),
    hospital_id     UUID NOT NULL,
    opens_at        TIMESTAMPTZ NOT NULL,
    draw_at         TIMESTAMPTZ NOT NULL,
    seed_sealed     BYTEA NOT NULL,
    commitment      BYTEA NOT NULL,
    -- the seed in clear, published once the draw is over
    seed            BYTEA,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'drawing', 'drawn')),
    -- '' (nothing done), ranked (drawn order stored), booked (winners booked)
    stage           TEXT NOT NULL DEFAULT '',
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     TIMESTAMPTZ,
    entries_digest  BYTEA,
    slots           INT NOT NULL DEFAULT 0,
    entries         INT NOT NULL DEFAULT 0,
    eligible        INT NOT NULL DEFAULT 0,
    held_out        INT NOT NULL DEFAULT 0,
    excluded        INT NOT NULL DEFAULT 0,
    winners         INT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    draw_started_at TIMESTAMPTZ,
    drawn_at        TIMESTAMPTZ,
    PRIMARY KEY (session_id, channel)
);
CREATE INDEX IF NOT EXISTS lottery_pools_due ON lottery_pools (status, draw_at);

-- An entry in a pool's draw. Its id is the request id the client was given,
-- and the id of the booking it becomes if it wins. One live entry per person
-- per session, whatever the account or channel.
CREATE TABLE IF NOT EXISTS lottery_entries (
    id          UUID PRIMARY KEY,
    session_id  UUID NOT NULL REFERENCES clinic_sessions (id),
    channel     TEXT NOT NULL CHECK (channel IN ('online', 'phone', 'onsite', 'referral')),
    hospital_id UUID NOT NULL,
    identity_id UUID NOT NULL REFERENCES identities (id),
    patient_id  UUID REFERENCES patients (id),
    account_id  UUID REFERENCES accounts (id),
    booked_by   UUID REFERENCES accounts (id),
    -- the entrant asked to join the session's waitlist if not drawn
    waitlist    BOOL NOT NULL DEFAULT false,
    status      TEXT NOT NULL CHECK (status IN ('entered', 'withdrawn', 'won', 'lost', 'waitlisted',
                                                'held_out', 'excluded')),
    -- place in the drawn order, 1 first; eligible entries only
    draw_rank   INT,
    -- why an entry was held out, excluded or passed over (an error code, flag:<id>)
    reason      TEXT NOT NULL DEFAULT '',
    flag_id     TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS lottery_entries_one_per_identity
    ON lottery_entries (session_id, identity_id) WHERE status <> 'withdrawn';
CREATE INDEX IF NOT EXISTS lottery_entries_by_pool ON lottery_entries (session_id, channel, status);
CREATE INDEX IF NOT EXISTS lottery_entries_by_account ON lottery_entries (account_id, created_at);
CREATE INDEX IF NOT EXISTS lottery_entries_by_flag ON lottery_entries (flag_id) WHERE flag_id IS NOT NULL;
