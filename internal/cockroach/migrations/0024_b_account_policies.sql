-- The platform's rules on accounts (issue 14): how many patients an account
-- may hold and on how many accounts one phone number may be. Accounts span
-- hospitals, so these are the platform's, set by a platform administrator,
-- each change from its time and kept like a hospital's policy. Until the
-- first takes effect, the service's own limits (booking.Config.Limits: 5
-- patients, 3 accounts on a phone) hold.
CREATE TABLE IF NOT EXISTS account_policies (
    id                    UUID PRIMARY KEY,
    effective_from        TIMESTAMPTZ NOT NULL,
    max_patients          INT NOT NULL CHECK (max_patients >= 1),
    max_accounts_on_phone INT NOT NULL CHECK (max_accounts_on_phone >= 1),
    reason                TEXT NOT NULL,
    set_by                UUID,
    set_at                TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS account_policies_by_time ON account_policies (effective_from);
