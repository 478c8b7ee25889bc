-- No phone or ID number in clear in a report or a complaint (review18b M1).
-- A report's offered account given as a phone (a patient's account name is
-- its phone) is kept as the account's id and the phone's mask
-- (offered_account_masked, what everyone sees); numbers in the text are
-- masked on the way in (booking.maskNumbers: first 3 and last 4 kept).
ALTER TABLE patient_cases ADD COLUMN IF NOT EXISTS offered_account_masked TEXT NOT NULL DEFAULT '';
-- The rows filed before: SQL has no key to hash a phone with, so an offered
-- account typed as a mobile number keeps only its mask (the detector no
-- longer reads it as an account: the rows are older than the window it
-- reads anyway, or soon are); a run of 11 digits or more in the text, and
-- a mobile number written 3-4-4 with spaces or hyphens, is masked. Each
-- statement runs again harmlessly: a masked value no longer matches.
UPDATE patient_cases
   SET offered_account_masked = substr(offered_account, 1, 3) || '****' || substr(offered_account, 8, 4), offered_account = ''
 WHERE offered_account ~ '^1[3-9][0-9]{9}$';
UPDATE patient_cases SET offered_account = regexp_replace(offered_account, '([0-9]{3})[0-9]{4,}([0-9]{3}[0-9Xx])', '\1****\2', 'g')
 WHERE offered_account ~ '[0-9]{11}';
UPDATE patient_cases SET body = regexp_replace(body, '([0-9]{3})[0-9]{4,}([0-9]{3}[0-9Xx])', '\1****\2', 'g')
 WHERE body ~ '[0-9]{11}';
UPDATE patient_cases SET body = regexp_replace(body, '(1[3-9][0-9])[ -][0-9]{4}[ -]([0-9]{4})', '\1****\2', 'g')
 WHERE body ~ '1[3-9][0-9][ -][0-9]{4}[ -][0-9]{4}';
