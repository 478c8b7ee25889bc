-- A person's former names (曾用名, review24 H3): a name the desk verified
-- and later replaced from the card (a legal change of name, a corrected
-- one), or one the clerk read on the 户口簿 or the police's 更名证明. Kept
-- as names are: the keyed hash of the name's key (identity.NameKey) to
-- find it by, and the name sealed, never in the clear. What was made under
-- a former name is the person's (docs/security.md, "Names and deaths").
CREATE TABLE IF NOT EXISTS identity_former_names (
    id          UUID PRIMARY KEY,
    identity_id UUID        NOT NULL REFERENCES identities (id),
    name_hash   BYTEA       NOT NULL,
    name_sealed BYTEA       NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    UNIQUE (identity_id, name_hash)
);

-- A death the desk recorded (review24 M2, RecordDeath): nothing is booked,
-- entered or waitlisted for the person from then on, nor are they added.
ALTER TABLE identities ADD COLUMN IF NOT EXISTS deceased_at TIMESTAMPTZ;
