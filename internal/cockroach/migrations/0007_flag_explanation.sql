-- Scalper detection explains each flag in an administrator's words: the
-- threshold its score is held against and how the score was made up, in
-- English and Chinese ({"threshold": 1, "en": "…", "zh": "…"}). The
-- reasons (JSONB already) carry each signal's kind, Chinese sentence and
-- points. Flags written before this migration have none.
ALTER TABLE flags ADD COLUMN IF NOT EXISTS explanation JSONB;
