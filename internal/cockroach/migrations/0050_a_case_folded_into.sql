-- Reports of one target folded into one case (session 19): a report of an
-- account, phone or booking that already has a report waiting for its
-- first answer at the hospital names that case here; the administrators'
-- queue shows the case once, with its reporters, and an answer or a close
-- of it is given to each report folded into it. Each report stays its
-- reporter's row (the detector reads one per reporter). NULL: a case of its
-- own.
ALTER TABLE patient_cases ADD COLUMN IF NOT EXISTS folded_into UUID;
