-- A patient row is its account's *verified self* only once the desk has
-- bound it to the person (POST /v1/desk/identities/verify with the account
-- holder's phone: the card in hand, the account named). Before, a self was
-- verified whenever its claimed name was the identity's verified name, so a
-- squatter who claimed the self under the person's true name became the
-- verified self the first time anyone verified that name (a walk-in, a
-- check-in, a real-name provider). No row is bound by this migration: a
-- verified self of before sees what others made for them again after one
-- visit to the desk (docs/security.md, "Ownership").
ALTER TABLE patients ADD COLUMN IF NOT EXISTS self_verified_at TIMESTAMPTZ;
