-- The desk's move of a taken login back to its holder (review19c M4) tells
-- the account: a notification of its own kind. The list is every kind
-- before it (0058's) and the new one.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed', 'account_phone_released', 'session_restored', 'account_login_moved'));

-- When the account's password or login number last changed (a change, a
-- reset with the desk's code, the desk's move or restore): an online
-- closing is refused within 7 days of it (review19c M6). NULL: never since
-- this column came.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS credentials_changed_at TIMESTAMPTZ;

-- The job that sweeps closed accounts again (closed_accounts_left) reads
-- the closed ones only.
CREATE INDEX IF NOT EXISTS accounts_closed ON accounts (closed_at) WHERE closed_at IS NOT NULL;
