-- Ownership, identity claims and verification, token revocation, staff
-- tenancy (docs/security.md).

-- The name each account gave for a person: its claim. Rows from before this
-- migration have none, and read the identity's name (COALESCE in queries).
ALTER TABLE patients ADD COLUMN IF NOT EXISTS name_hash BYTEA;
ALTER TABLE patients ADD COLUMN IF NOT EXISTS name_sealed BYTEA;
ALTER TABLE patients ADD COLUMN IF NOT EXISTS name_masked TEXT NOT NULL DEFAULT '';

-- An identity's name is verified once a real-name provider or the desk, with
-- the physical card, confirmed it; until then it is only the first claim.
ALTER TABLE identities ADD COLUMN IF NOT EXISTS name_verified_at TIMESTAMPTZ;
ALTER TABLE identities ADD COLUMN IF NOT EXISTS name_verified_by TEXT NOT NULL DEFAULT '';

-- The name a booking was made under: check-in compares the card with it.
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS name_hash BYTEA;

-- Tokens carry their account's generation; logout and a password change
-- raise it, and every instance refuses older tokens.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS token_generation INT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS tokens_revoked_at TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS accounts_by_revocation ON accounts (tokens_revoked_at);

-- Staff work for one hospital (an admin without one is platform-wide).
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS hospital_id UUID;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS hospital_id UUID;
CREATE INDEX IF NOT EXISTS audit_log_by_hospital ON audit_log (hospital_id, ts);
