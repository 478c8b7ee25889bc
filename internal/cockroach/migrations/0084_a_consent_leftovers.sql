-- review21's consent leftovers (docs/security.md, "Consent to the privacy
-- notice"; session 24).
--
-- A child listed before 14 consents for themselves from the 14th birthday
-- (个人信息保护法 art. 31): the listing row keeps that day (the resident
-- ID's digits 7-14 plus 14 years, China's calendar) while the only consent
-- on record for the person from that account is a guardian's; NULL once
-- the person's own is recorded, and for everyone else.
ALTER TABLE patients ADD COLUMN IF NOT EXISTS consent_due_on DATE;
-- given_by 'person': the person's own consent after a guardian's, relayed
-- by the holder (online) or given at the desk or on the phone. channel
-- 'referral': collected by a referring doctor or carer for a resident.
-- CockroachDB names a column's CHECK check_<column>, PostgreSQL
-- <table>_<column>_check: both are dropped.
ALTER TABLE privacy_consents DROP CONSTRAINT IF EXISTS check_given_by;
ALTER TABLE privacy_consents DROP CONSTRAINT IF EXISTS privacy_consents_given_by_check;
ALTER TABLE privacy_consents DROP CONSTRAINT IF EXISTS privacy_consents_given_by_known;
ALTER TABLE privacy_consents ADD CONSTRAINT privacy_consents_given_by_known CHECK (given_by IN ('holder', 'guardian', 'person'));
ALTER TABLE privacy_consents DROP CONSTRAINT IF EXISTS check_channel;
ALTER TABLE privacy_consents DROP CONSTRAINT IF EXISTS privacy_consents_channel_check;
ALTER TABLE privacy_consents DROP CONSTRAINT IF EXISTS privacy_consents_channel_known;
ALTER TABLE privacy_consents ADD CONSTRAINT privacy_consents_channel_known CHECK (channel IN ('online', 'phone', 'desk', 'referral'));
-- A person who removed themselves from an account's list tells that
-- account (listing_removed_by_person): every kind before it (0082_a's) and
-- the new one.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known
    CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed', 'booked', 'cancelled', 'no_show',
                    'lottery_lost', 'lottery_waitlisted', 'lottery_review', 'made_by_other_account', 'name_corrected',
                    'session_changed', 'account_phone_released', 'session_restored', 'account_login_moved',
                    'session_moved', 'account_closing_requested', 'account_closing_cancelled', 'account_holder_changed',
                    'listing_removed_by_person'));
