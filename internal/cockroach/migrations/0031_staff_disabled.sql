-- A staff account an operator disabled (`fairslot staff disable`): its
-- tokens ended then, and a login is refused until `fairslot staff enable`.
-- NULL: enabled.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS disabled_at TIMESTAMPTZ;
