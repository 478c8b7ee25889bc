-- The rest of a hospital's policy (issue 14), each change from its time like
-- the quotas: the booking window (days ahead; 0: none but the release
-- times), the share of each session's slots kept for on-site patients (a
-- percentage), and the no-show rules: the window in days and the steps as
-- "count:bar_days" pairs, comma-separated and ascending ('' and 0: the
-- service's own rules, --no-show-*).
ALTER TABLE hospital_policies ADD COLUMN IF NOT EXISTS book_ahead_days INT NOT NULL DEFAULT 0 CHECK (book_ahead_days >= 0);
ALTER TABLE hospital_policies ADD COLUMN IF NOT EXISTS onsite_share INT NOT NULL DEFAULT 0 CHECK (onsite_share BETWEEN 0 AND 100);
ALTER TABLE hospital_policies ADD COLUMN IF NOT EXISTS no_show_window_days INT NOT NULL DEFAULT 0 CHECK (no_show_window_days >= 0);
ALTER TABLE hospital_policies ADD COLUMN IF NOT EXISTS no_show_steps TEXT NOT NULL DEFAULT '';
