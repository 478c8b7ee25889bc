-- Due process for a person wrongly flagged (review21 H1 c, M1, M3).
-- A person's appeal (申诉) names the person it is for: a case of kind appeal
-- filed from an account that lists them, or at the desk with their card.
ALTER TABLE patient_cases ADD COLUMN IF NOT EXISTS identity_id UUID;
-- An upheld appeal overturns the flag (status overturned, by whom, when).
ALTER TABLE flags ADD COLUMN IF NOT EXISTS overturned_by UUID;
ALTER TABLE flags ADD COLUMN IF NOT EXISTS overturned_at TIMESTAMPTZ;
-- When a flag last opened (a new flag, or a dismissed one reopened): its
-- decision deadline runs from here. NULL: created_at.
ALTER TABLE flags ADD COLUMN IF NOT EXISTS opened_at TIMESTAMPTZ;
-- A person's block lifted on appeal names the appeal.
ALTER TABLE identity_blocks ADD COLUMN IF NOT EXISTS lifted_by_case UUID;
