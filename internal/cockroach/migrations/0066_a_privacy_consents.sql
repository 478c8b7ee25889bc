-- A patient's consent to the privacy notice (个人信息保护说明, review21 H3;
-- 个人信息保护法 art. 14, 17, 29, 31): one row per consent given, never
-- updated — the account's at sign-up (or at the first login after a new
-- notice), each person's when the holder adds them, a child's (under 14)
-- given by the holder as parent or guardian (given_by 'guardian'). The
-- version names the notice's text; channel says how it was given (online:
-- the holder ticked it; phone: an operator read the notice to the caller;
-- desk: a clerk showed it), staff_id who read or showed it.
CREATE TABLE IF NOT EXISTS privacy_consents (
    id             UUID        PRIMARY KEY,
    account_id     UUID,
    patient_id     UUID,
    identity_id    UUID,
    notice_version TEXT        NOT NULL,
    given_by       TEXT        NOT NULL CHECK (given_by IN ('holder', 'guardian')),
    channel        TEXT        NOT NULL CHECK (channel IN ('online', 'phone', 'desk')),
    staff_id       UUID,
    given_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS privacy_consents_by_account ON privacy_consents (account_id, given_at) WHERE account_id IS NOT NULL;
-- The notice version the account last agreed to (NULL: none recorded — an
-- account made before consents were recorded is asked at its next login).
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS privacy_consent_version TEXT;
