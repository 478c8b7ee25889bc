-- Departments and doctors managed by their hospital's administrator (issue
-- 14): a doctor's fee level (普通/专家/特需), and retirement instead of
-- deletion: a retired doctor or department keeps its row, so the sessions
-- and bookings that name it stay whole, but nothing new is published for it.
ALTER TABLE doctors ADD COLUMN IF NOT EXISTS fee_level TEXT NOT NULL DEFAULT 'general'
    CHECK (fee_level IN ('general', 'expert', 'special'));
ALTER TABLE doctors ADD COLUMN IF NOT EXISTS retired_at TIMESTAMPTZ;
ALTER TABLE departments ADD COLUMN IF NOT EXISTS retired_at TIMESTAMPTZ;
