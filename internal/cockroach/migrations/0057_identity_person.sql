-- One person, two documents (review17 M4): a clerk who holds a person's
-- second ID document links it to the person already known under the first
-- (POST /v1/desk/identity-links). person_id names that person's identity
-- row; NULL is a person of its own. Every per-person rule reads the person
-- (docs/design.md, "Person key"); the link moves the document's bookings,
-- entries, waitlist places and bars onto the person in its transaction.
ALTER TABLE identities ADD COLUMN IF NOT EXISTS person_id UUID REFERENCES identities (id);
CREATE INDEX IF NOT EXISTS identities_by_person ON identities (person_id) WHERE person_id IS NOT NULL;
