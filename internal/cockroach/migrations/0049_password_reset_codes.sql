-- A forgotten password is reset at the registration desk (review18b): the
-- clerk checks the holder's ID card and issues a one-time code, kept here
-- only as a keyed hash bound to the account, until it is used or replaced.
-- One code per account; the issuing clerk and hospital are kept for the
-- audit row of its use. A code's row goes with its account.
CREATE TABLE IF NOT EXISTS password_reset_codes (
    account_id  UUID PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash   BYTEA NOT NULL,
    issued_by   UUID NOT NULL,
    hospital_id UUID,
    issued_at   TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
