-- A session's version, raised by every change of its layout (an edit,
-- extra slots, a pool move): an edit names the version it was made from
-- and is refused when the session changed meanwhile (review19b M2).
ALTER TABLE clinic_sessions ADD COLUMN IF NOT EXISTS version INT8 NOT NULL DEFAULT 1;
